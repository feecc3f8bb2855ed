package qmux

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// An openResult is what Open returned.
type openResult struct {
	ch  mux.Channel
	err error
}

// openPending starts an Open from the session and returns the session's
// number from its OPEN, and where Open's result arrives.
func (p *rawPeer) openPending() (uint32, <-chan openResult) {
	p.t.Helper()
	opened := make(chan openResult, 1)
	go func() {
		ch, err := p.s.Open(context.Background())
		opened <- openResult{ch, err}
	}()
	f, _ := p.next()
	if f.typ != msgChannelOpen {
		p.t.Fatalf("session wrote %+v, want an OPEN", f)
	}
	return f.sender, opened
}

// An older peer greets before it confirms: DATA and EOF before the
// OPEN_CONFIRMATION reach the application, and the session goes on.
func TestEarlyDataBeforeConfirmation(t *testing.T) {
	const peer = 9
	p := newRawPeer(t, &hostileConfig)
	sid, opened := p.openPending()
	p.sendData(sid, []byte("hello, "))
	p.sendData(sid, []byte("client"))
	p.send(frame{typ: msgChannelEOF, recipient: sid})
	p.send(frame{typ: msgChannelOpenConfirm, recipient: sid, sender: peer, window: 4096, maxPacket: 1024})
	r := <-opened
	if r.err != nil {
		t.Fatalf("Open: %v", r.err)
	}
	ch := r.ch
	got, err := io.ReadAll(ch)
	if err != nil || string(got) != "hello, client" {
		t.Fatalf("read %q, %v; want the greeting, then EOF", got, err)
	}
	if _, err := ch.Write([]byte("hi")); err != nil {
		t.Fatalf("Write after an early EOF: %v", err)
	}
	if payload := p.expect(frame{typ: msgChannelData, recipient: peer, length: 2}); string(payload) != "hi" {
		t.Errorf("session sent %q, want hi", payload)
	}
	ch.Close()
	p.expect(frame{typ: msgChannelClose, recipient: peer})
	p.checkUsable(peer + 1)
}

// CLOSE before the confirmation ends the reads after the data; once the
// confirmation gives the peer's number, the session answers the CLOSE.
// Anything but the answer after such a CLOSE is still an error.
func TestEarlyCloseBeforeConfirmation(t *testing.T) {
	const peer = 9
	p := newRawPeer(t, &hostileConfig)
	sid, opened := p.openPending()
	p.sendData(sid, []byte("bye"))
	p.send(frame{typ: msgChannelClose, recipient: sid})
	p.send(frame{typ: msgChannelOpenConfirm, recipient: sid, sender: peer, window: 4096, maxPacket: 1024})
	p.expect(frame{typ: msgChannelClose, recipient: peer})
	r := <-opened
	if r.err != nil {
		t.Fatalf("Open: %v", r.err)
	}
	ch := r.ch
	got, err := io.ReadAll(ch)
	if err != nil || string(got) != "bye" {
		t.Fatalf("read %q, %v; want bye, then EOF", got, err)
	}
	if _, err := ch.Write([]byte("x")); err == nil {
		t.Error("Write on a channel the peer closed succeeded")
	}
	ch.Close()
	p.checkUsable(peer + 1)

	p2 := newRawPeer(t, &hostileConfig)
	sid, opened = p2.openPending()
	p2.send(frame{typ: msgChannelClose, recipient: sid}, frame{typ: msgChannelData, recipient: sid, length: 1})
	if err := p2.expectProtocolError(); !errors.Is(err, mux.ErrProtocol) {
		t.Errorf("DATA after an early CLOSE: %v, want a protocol error", err)
	}
	if r := <-opened; r.err == nil {
		t.Error("Open succeeded on a session that ended with a protocol error")
	}
}
