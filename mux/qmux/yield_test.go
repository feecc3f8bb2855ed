package qmux

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestYieldBounded: what the writer goroutine yielded for before a batch
// (yieldBeforeBatch) leaves even when the writer's turn does not come
// back, written by the yield timer; and once the writer is back, the
// session goes on writing as usual. The test holds the writer in its
// first yield until the peer has read the OPEN it was woken for.
func TestYieldBounded(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	yield = func() { once.Do(func() { close(held); <-release }) }
	var unblock sync.Once

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, conn, nil)
	t.Cleanup(func() {
		unblock.Do(func() { close(release) })
		s.Close()
		yield = runtime.Gosched // the writer has exited
	})

	ch, err := s.OpenEarly(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	select {
	case <-held:
	case <-time.After(failAfter):
		t.Fatal("the writer did not yield for the OPEN")
	}
	r := bufio.NewReader(peer)
	peer.SetReadDeadline(time.Now().Add(failAfter))
	f, _, err := readFrame(r)
	if err != nil {
		t.Fatalf("the OPEN did not come while the writer was held in its yield: %v", err)
	}
	if f.typ != msgChannelOpen || uint64(f.sender) != ch.ID() {
		t.Fatalf("session wrote %+v, want the OPEN of channel %d", f, ch.ID())
	}

	unblock.Do(func() { close(release) })
	// Confirmed, the channel's data goes out; the writer writes it, or
	// the yield timer of its next yield.
	peer.Write(appendFrame(nil, frame{typ: msgChannelOpenConfirm, recipient: f.sender, sender: 9, window: 4096, maxPacket: 1024}))
	if _, err := ch.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	f, payload, err := readFrame(r)
	if err != nil || f.typ != msgChannelData || f.recipient != 9 || string(payload) != "after" {
		t.Fatalf("session wrote %+v %q (%v), want DATA \"after\" for channel 9", f, payload, err)
	}
}
