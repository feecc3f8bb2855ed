package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/qtalkkit/qtalk/transport"
)

func ExampleParseAddress() {
	for _, s := range []string{
		"tcp/$4:4000",
		"tcp/*6:4000!chat",
		"unix//run/app.sock",
		"websocket://example.com/qtalk?v=1",
		"exec:ssh host 'qtalk serve'",
	} {
		a, err := transport.ParseAddress(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-34s %s\n", s, a)
	}
	_, err := transport.ParseAddress("tcp/$4")
	fmt.Println(err)
	// Output:
	// tcp/$4:4000                        tcp://127.0.0.1:4000
	// tcp/*6:4000!chat                   tcp://[::]:4000!chat
	// unix//run/app.sock                 unix:///run/app.sock
	// websocket://example.com/qtalk?v=1  ws://example.com/qtalk?v=1
	// exec:ssh host 'qtalk serve'        exec:ssh host 'qtalk serve'
	// transport: bad address "tcp/$4": missing port in "127.0.0.1"
}

func ExampleListen() {
	ctx := context.Background()
	ln, err := transport.Listen(ctx, "tcp/$4:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		sess, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		defer sess.Close()
		for {
			ch, err := sess.Accept(ctx)
			if err != nil {
				return
			}
			go func() { // echo
				defer ch.Close()
				io.Copy(ch, ch)
				ch.CloseWrite()
			}()
		}
	}()

	sess, err := transport.Dial(ctx, "tcp://"+ln.Addr().String())
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
	defer ch.Close()
	io.WriteString(ch, "hello over tcp")
	ch.CloseWrite()
	reply, _ := io.ReadAll(ch)
	fmt.Println(string(reply))
	// Output: hello over tcp
}

func ExampleNewWebSocketHandler() {
	ctx := context.Background()
	h := transport.NewWebSocketHandler()
	srv := httptest.NewServer(h) // or http.Handle("/qtalk", h) on your server
	defer srv.Close()
	defer h.Close()

	go func() {
		sess, err := h.Accept(ctx)
		if err != nil {
			return
		}
		defer sess.Close()
		ch, err := sess.Accept(ctx)
		if err != nil {
			return
		}
		defer ch.Close()
		io.WriteString(ch, "hello over websocket")
		ch.CloseWrite()
		io.Copy(io.Discard, ch)
	}()

	sess, err := transport.Dial(ctx, "ws://"+strings.TrimPrefix(srv.URL, "http://")+"/qtalk")
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
	// Output: hello over websocket
}
