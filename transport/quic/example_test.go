package quic_test

import (
	"context"
	"fmt"
	"io"

	"github.com/qtalkkit/qtalk/transport"
	_ "github.com/qtalkkit/qtalk/transport/quic" // registers the quic scheme
)

// A listener without a certificate uses a self-signed one; the client pins
// its fingerprint.
func Example() {
	ctx := context.Background()
	ln, err := transport.Listen(ctx, "quic/$4:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	fingerprint := ln.(transport.Fingerprinter).Fingerprint()

	go func() {
		sess, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		defer sess.Close()
		ch, err := sess.Accept(ctx)
		if err != nil {
			return
		}
		defer ch.Close()
		fmt.Fprint(ch, "hello over QUIC")
		ch.CloseWrite()
		io.Copy(io.Discard, ch) // until the client closes
	}()

	sess, err := transport.Dial(ctx, "quic://"+ln.Addr().String()+"?pin="+fingerprint)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close()
	ch, err := sess.Open(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := io.ReadAll(ch)
	ch.Close()
	fmt.Println(string(msg))
	// Output: hello over QUIC
}
