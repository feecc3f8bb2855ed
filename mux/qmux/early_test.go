package qmux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// openEarly opens a channel with OpenEarly and reads its OPEN. It returns
// the channel and the session's number for it.
func (p *rawPeer) openEarly() (mux.Channel, uint32) {
	p.t.Helper()
	ch, err := p.s.OpenEarly(context.Background())
	if err != nil {
		p.t.Fatalf("OpenEarly: %v", err)
	}
	f, _ := p.next()
	if f.typ != msgChannelOpen || uint64(f.sender) != ch.ID() {
		p.t.Fatalf("session wrote %+v, want the OPEN of channel %d", f, ch.ID())
	}
	return ch, f.sender
}

// TestOpenEarly checks the channels of OpenEarly against a peer playing
// the protocol by hand: data written before the answer waits for it, a
// refusal reaches Read, Write and CloseWrite, and a channel closed before
// the answer is closed once it comes, its number freed after the handshake.
func TestOpenEarly(t *testing.T) {
	t.Run("write waits for the confirmation", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ch, sid := p.openEarly()
		defer ch.Close()
		wrote := make(chan error, 1)
		go func() {
			_, err := ch.Write([]byte("early"))
			if err == nil {
				err = ch.CloseWrite()
			}
			wrote <- err
		}()
		// Nothing can go out before the answer: the peer's number is not
		// known yet.
		p.syncQuiet()
		p.send(frame{typ: msgChannelOpenConfirm, recipient: sid, sender: 9, window: 4096, maxPacket: 1024})
		if got := p.expect(frame{typ: msgChannelData, recipient: 9, length: 5}); string(got) != "early" {
			t.Fatalf("DATA %q, want %q", got, "early")
		}
		p.expect(frame{typ: msgChannelEOF, recipient: 9})
		if err := <-wrote; err != nil {
			t.Fatalf("Write, CloseWrite: %v", err)
		}
		p.sendData(sid, []byte("back"))
		buf := make([]byte, 4)
		ch.SetReadDeadline(time.Now().Add(failAfter))
		if _, err := io.ReadFull(ch, buf); err != nil || string(buf) != "back" {
			t.Fatalf("Read %q, %v; want %q", buf, err, "back")
		}
	})
	t.Run("refused", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ch, sid := p.openEarly()
		type result struct {
			n   int
			err error
		}
		read, wrote := make(chan result, 1), make(chan result, 1)
		go func() {
			n, err := ch.Read(make([]byte, 8))
			read <- result{n, err}
		}()
		go func() {
			n, err := ch.Write([]byte("lost"))
			wrote <- result{n, err}
		}()
		p.send(frame{typ: msgChannelOpenFailure, recipient: sid})
		for name, c := range map[string]chan result{"Read": read, "Write": wrote} {
			if r := <-c; r.n != 0 || !errors.Is(r.err, mux.ErrOpenRejected) {
				t.Errorf("%s = %d, %v; want 0, mux.ErrOpenRejected", name, r.n, r.err)
			}
		}
		if err := ch.CloseWrite(); !errors.Is(err, mux.ErrOpenRejected) {
			t.Errorf("CloseWrite = %v, want mux.ErrOpenRejected", err)
		}
		// The application still holds the channel: its number stays taken
		// until Close, which sends nothing.
		p.expectChannels(1, "while the refused channel is held")
		if err := ch.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		p.syncQuiet()
		p.expectChannels(0, "after Close")
		p.checkUsable(100)
	})
	t.Run("message for a refused channel", func(t *testing.T) {
		// The number stays taken while the application holds the
		// channel, but the peer freed it when it refused the open
		// (spec/qmux.md section 5): anything addressed to it is for an
		// unknown channel.
		p := newRawPeer(t, &hostileConfig)
		ch, sid := p.openEarly()
		defer ch.Close()
		p.send(frame{typ: msgChannelOpenFailure, recipient: sid})
		p.send(frame{typ: msgChannelEOF, recipient: sid})
		p.expectProtocolError()
	})
	t.Run("closed before the confirmation", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ch, sid := p.openEarly()
		closeWrite := make(chan error, 1)
		go func() { closeWrite <- ch.CloseWrite() }()
		if err := ch.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-closeWrite; !errors.Is(err, mux.ErrChannelClosed) {
			t.Fatalf("CloseWrite waiting for the answer = %v, want mux.ErrChannelClosed", err)
		}
		wrote := make(chan error, 1)
		go func() {
			_, err := ch.Write([]byte("late"))
			wrote <- err
		}()
		select {
		case err := <-wrote:
			if !errors.Is(err, mux.ErrChannelClosed) {
				t.Fatalf("Write after Close = %v, want mux.ErrChannelClosed", err)
			}
		case <-time.After(failAfter):
			t.Fatal("Write after Close waits for the answer to the open")
		}
		p.syncQuiet() // no CLOSE without the peer's number
		p.send(frame{typ: msgChannelOpenConfirm, recipient: sid, sender: 9, window: 4096, maxPacket: 1024})
		p.expect(frame{typ: msgChannelClose, recipient: 9})
		p.expectChannels(1, "before the peer's CLOSE")
		p.send(frame{typ: msgChannelClose, recipient: sid})
		p.syncQuiet()
		p.expectChannels(0, "after the CLOSE handshake")
		p.checkUsable(100)
	})
	t.Run("closed before the refusal", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ch, sid := p.openEarly()
		ch.Close()
		p.send(frame{typ: msgChannelOpenFailure, recipient: sid})
		p.syncQuiet()
		p.expectChannels(0, "after the refusal")
		p.checkUsable(100)
	})
	t.Run("session ends before the answer", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ch, _ := p.openEarly()
		wrote := make(chan error, 1)
		go func() {
			_, err := ch.Write([]byte("x"))
			wrote <- err
		}()
		p.s.Close()
		if err := <-wrote; !errors.Is(err, mux.ErrSessionClosed) {
			t.Fatalf("Write = %v, want mux.ErrSessionClosed", err)
		}
		if _, err := p.s.OpenEarly(context.Background()); !errors.Is(err, mux.ErrSessionClosed) {
			t.Fatalf("OpenEarly after Close = %v, want mux.ErrSessionClosed", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.s.OpenEarly(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("OpenEarly = %v, want context.Canceled", err)
		}
		p.syncQuiet()
	})
}

// TestSmallWritesCopied checks that short Writes return once their data
// is copied into the session's queue, even while the connection does not
// take it (the peer is not reading), and that it goes out in order.
func TestSmallWritesCopied(t *testing.T) {
	p := newRawPeerSize(t, &hostileConfig, 16)
	ch, _ := p.openFromSession(9)
	defer ch.Close()
	msgs := make([][]byte, 4)
	wrote := make(chan error, 1)
	go func() {
		for i := range msgs {
			msgs[i] = bytes.Repeat([]byte{'a' + byte(i)}, 1000)
			if _, err := ch.Write(msgs[i]); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
	case <-time.After(failAfter):
		t.Fatal("short Writes wait for a peer that does not read")
	}
	for i, msg := range msgs {
		if got := p.expect(frame{typ: msgChannelData, recipient: 9, length: 1000}); !bytes.Equal(got, msg) {
			t.Fatalf("DATA %d is %.10q..., want %.10q...", i, got, msg)
		}
	}
}

// TestCloseSendsQueuedWrites checks that a local Close sends the data of
// the Writes that returned before it (short ones return once their data is
// queued) before closing the connection, even while the writer is held up
// by a peer that reads slowly.
func TestCloseSendsQueuedWrites(t *testing.T) {
	p := newRawPeerSize(t, &hostileConfig, 16)
	ch, _ := p.openFromSession(9)
	first := bytes.Repeat([]byte{'a'}, 1000)
	for _, msg := range [][]byte{first, []byte("bye")} {
		if _, err := ch.Write(msg); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	ch.Close()
	closed := make(chan struct{})
	go func() { // Close returns once the queued messages are out
		p.s.Close()
		close(closed)
	}()
	if got := p.expect(frame{typ: msgChannelData, recipient: 9, length: 1000}); !bytes.Equal(got, first) {
		t.Fatalf("first DATA %.10q..., want %.10q...", got, first)
	}
	if got := p.expect(frame{typ: msgChannelData, recipient: 9, length: 3}); string(got) != "bye" {
		t.Fatalf("second DATA %q, want %q", got, "bye")
	}
	p.expect(frame{typ: msgChannelClose, recipient: 9})
	if _, err := p.r.ReadByte(); err != io.EOF {
		t.Fatalf("after the queued messages: %v, want io.EOF", err)
	}
	select {
	case <-closed:
	case <-time.After(failAfter):
		t.Fatal("Close still waits after its queued messages were read")
	}
	if err := waitEnd(t, p.s); err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
}

// TestWriteBuffers checks that WriteBuffers sends the concatenation of its
// buffers in the packets one Write of it would use, short buffers and long
// ones (written in place) sharing packets, and short totals copied.
func TestWriteBuffers(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	ch, _ := p.openFromSession(9) // the peer's max packet: 1024
	defer ch.Close()
	long := bytes.Repeat([]byte{'x'}, 3*inPlaceThreshold)
	for _, bufs := range [][][]byte{
		{[]byte("head"), long, nil, []byte("tail")},
		{nil, long},
		{[]byte("a"), {}, []byte("bc")},
	} {
		want := bytes.Join(bufs, nil)
		wrote := make(chan error, 1)
		go func() {
			n, err := ch.(mux.BuffersWriter).WriteBuffers(bufs)
			if err == nil && n != len(want) {
				err = fmt.Errorf("wrote %d bytes, want %d", n, len(want))
			}
			wrote <- err
		}()
		var got []byte
		for len(got) < len(want) {
			size := min(len(want)-len(got), 1024)
			got = append(got, p.expect(frame{typ: msgChannelData, recipient: 9, length: uint32(size)})...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("WriteBuffers of %d buffers sent %.20q..., want %.20q...", len(bufs), got, want)
		}
		if err := <-wrote; err != nil {
			t.Fatalf("WriteBuffers: %v", err)
		}
	}
}

// TestCloseNotReadingPeer checks that a local Close, with a write under
// way to a peer that does not read, still ends the session once the time
// given to send what was queued has passed.
func TestCloseNotReadingPeer(t *testing.T) {
	defer func(d time.Duration) { closeFlushTimeout = d }(closeFlushTimeout)
	closeFlushTimeout = 50 * time.Millisecond
	p := newRawPeerSize(t, &hostileConfig, 16)
	ch, _ := p.openFromSession(9)
	// Too long to be queued by copying, the Write returns once the writer
	// has taken it: the writer is then writing, and the pipe holds 16
	// bytes.
	if _, err := ch.Write(bytes.Repeat([]byte{'a'}, 2*inPlaceThreshold)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	p.s.Close()
	if err := waitEnd(t, p.s); err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
}

// shortWriter is a tryWriter that writes at most max bytes of each call.
type shortWriter struct {
	w     io.Writer
	max   int
	calls int
}

func (s *shortWriter) tryWrite(p []byte) (int, error) {
	s.calls++
	return s.w.Write(p[:min(len(p), s.max)])
}

// failingWriter is a tryWriter whose connection the peer has reset.
type failingWriter struct{}

func (failingWriter) tryWrite([]byte) (int, error) {
	return 0, os.NewSyscallError("write", syscall.ECONNRESET)
}

// TestFlushBeforeWait checks the write a Read about to wait makes of what
// is queued: what the connection did not take, the writer goroutine writes
// before anything else, so that the peer reads every message whole and in
// order.
func TestFlushBeforeWait(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	ch, _ := p.openFromSession(9)
	defer ch.Close()
	sw := &shortWriter{w: p.s.conn, max: 5}
	p.s.tw = sw
	// Queued without waking the writer goroutine, as if it had not run
	// yet when the Read came.
	p.s.mu.Lock()
	p.s.copied = append(appendFrame(p.s.copied, frame{typ: msgChannelData, recipient: 9, length: 5}), "first"...)
	p.s.mu.Unlock()
	p.s.flushBeforeWait()
	if sw.calls != 1 {
		t.Fatalf("%d writes without waiting, want 1", sw.calls)
	}
	if _, err := ch.Write([]byte("second")); err != nil { // queued behind the rest
		t.Fatal(err)
	}
	if got := p.expect(frame{typ: msgChannelData, recipient: 9, length: 5}); string(got) != "first" {
		t.Fatalf("first DATA %q, want %q", got, "first")
	}
	if got := p.expect(frame{typ: msgChannelData, recipient: 9, length: 6}); string(got) != "second" {
		t.Fatalf("second DATA %q, want %q", got, "second")
	}
}

// TestFlushBeforeWaitFails checks that a failed write from a Read about to
// wait ends the session as a failed write of the writer does: the Read
// and Wait report the connection closed by the peer.
func TestFlushBeforeWaitFails(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	ch, _ := p.openFromSession(9)
	defer ch.Close()
	p.s.tw = failingWriter{}
	p.s.mu.Lock()
	p.s.copied = append(appendFrame(p.s.copied, frame{typ: msgChannelData, recipient: 9, length: 2}), "hi"...)
	p.s.mu.Unlock()
	ch.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := ch.Read(make([]byte, 8)); !errors.Is(err, mux.ErrSessionClosed) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Read = %v, want mux.ErrSessionClosed wrapping ECONNRESET", err)
	}
	if err := waitEnd(t, p.s); !errors.Is(err, io.EOF) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Wait = %v, want io.EOF and ECONNRESET (the peer went away)", err)
	}
}
