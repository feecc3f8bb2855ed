package quic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/muxtest"
	"github.com/qtalkkit/qtalk/mux/quic"
)

// early is the config of an end that opens early.
var early = &quic.Config{EarlyOpen: true}

func TestEarlyOpenRejected(t *testing.T) {
	// With two of its three streams held, the acceptor has one left for
	// the refused opens: each must give its stream back.
	a, b, stop := sessionPairs(t, early, &quic.Config{AcceptBacklog: 1, MaxIncomingStreams: 3})
	defer stop()
	muxtest.CheckRefusal(t, a, b, muxtest.Options{EarlyOpen: true}, func() {
		ctx := testContext(t)
		for i := range 10 {
			c, err := a.Open(ctx) // waits for a stream
			if err != nil {
				t.Fatalf("open %d beyond the backlog: %v", i, err)
			}
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, mux.ErrOpenRejected) {
				t.Errorf("Read of open %d beyond the backlog: %v, want ErrOpenRejected", i, err)
			}
			c.Close()
		}
	})
	// The session goes on.
	oc, ac := openPair(t, a, b)
	roundTrip(t, oc, ac)
}

// roundTrip sends a message each way between oc and ac, then closes both.
func roundTrip(t *testing.T, oc, ac mux.Channel) {
	t.Helper()
	defer oc.Close()
	defer ac.Close()
	for _, p := range [][2]mux.Channel{{oc, ac}, {ac, oc}} {
		if _, err := p[0].Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(p[1], buf); err != nil || string(buf) != "ping" {
			t.Fatalf("read %q, %v; want \"ping\"", buf, err)
		}
	}
}

// TestEarlyOpenInterop pairs an end that opens early with one that does
// not, each way round: channels work both ways, and each opener learns of
// a refusal its own way.
func TestEarlyOpenInterop(t *testing.T) {
	for _, earlyDialer := range []bool{true, false} {
		name := map[bool]string{true: "EarlyDialer", false: "EarlyListener"}[earlyDialer]
		t.Run(name, func(t *testing.T) {
			acfg := &quic.Config{AcceptBacklog: 1, EarlyOpen: earlyDialer}
			bcfg := &quic.Config{AcceptBacklog: 1, EarlyOpen: !earlyDialer}
			a, b, stop := sessionPairs(t, acfg, bcfg)
			defer stop()
			for _, p := range [][2]mux.Session{{a, b}, {b, a}, {a, b}} {
				oc, ac := openPair(t, p[0], p[1])
				roundTrip(t, oc, ac)
			}
			muxtest.CheckRefusal(t, a, b, muxtest.Options{EarlyOpen: acfg.EarlyOpen}, nil)
			muxtest.CheckRefusal(t, b, a, muxtest.Options{EarlyOpen: bcfg.EarlyOpen}, nil)
		})
	}
}

// rawOpenEarly opens a channel from s, which opens early, and returns it
// with the stream as the raw peer sees it, its open header read: 0x02,
// open with no answer wanted.
func rawOpenEarly(t *testing.T, s *quic.Session, raw *quicgo.Conn) (mux.Channel, *quicgo.Stream) {
	t.Helper()
	c, err := s.Open(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	str, err := raw.AcceptStream(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := readAnswer(str); err != nil || b != 0x02 {
		t.Fatalf("open header %#x, %v; want 0x02", b, err)
	}
	return c, str
}

// TestEarlyOpenRefused has a raw peer refuse early opens, as a full
// backlog (code 1) and a closing session (code 2) do.
func TestEarlyOpenRefused(t *testing.T) {
	for _, code := range []quicgo.StreamErrorCode{1, 2} {
		t.Run("Read/code"+string(rune('0'+code)), func(t *testing.T) {
			s, raw := serverRaw(t, early)
			c, err := s.Open(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The request goes out before the refusal comes back.
			if _, err := c.Write([]byte("request")); err != nil {
				t.Fatalf("Write before the refusal: %v", err)
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatalf("CloseWrite before the refusal: %v", err)
			}
			str, err := raw.AcceptStream(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			str.CancelRead(code)
			str.CancelWrite(code)
			for _, what := range []string{"first Read", "second Read"} {
				if _, err := c.Read(make([]byte, 8)); !errors.Is(err, mux.ErrOpenRejected) {
					t.Errorf("%s: %v, want ErrOpenRejected", what, err)
				}
			}
		})
		t.Run("Write/code"+string(rune('0'+code)), func(t *testing.T) {
			s, raw := serverRaw(t, early)
			c, str := rawOpenEarly(t, s, raw)
			str.CancelRead(code)
			str.CancelWrite(code)
			<-quic.SendClosed(c) // the STOP_SENDING has arrived
			if n, err := c.Write([]byte("request")); n != 0 || !errors.Is(err, mux.ErrOpenRejected) {
				t.Errorf("first Write: %d, %v; want 0, ErrOpenRejected", n, err)
			}
			if _, err := c.Read(make([]byte, 8)); !errors.Is(err, mux.ErrOpenRejected) {
				t.Errorf("Read after the refusal: %v, want ErrOpenRejected", err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestEarlyOpenNoAnswer checks that a channel opened early expects no
// answer to its open: the peer's first bytes, even one that reads as a
// confirmation, are data, and a FIN before any is the end of the data.
func TestEarlyOpenNoAnswer(t *testing.T) {
	t.Run("Data", func(t *testing.T) {
		s, raw := serverRaw(t, early)
		c, str := rawOpenEarly(t, s, raw)
		if _, err := str.Write([]byte{0x01, 'a', 'b'}); err != nil {
			t.Fatal(err)
		}
		str.Close()
		if data, err := io.ReadAll(c); err != nil || string(data) != "\x01ab" {
			t.Errorf("read %q, %v; want \"\\x01ab\"", data, err)
		}
		// Writes go through, after the header: the peer reads them.
		if _, err := c.Write([]byte("cd")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2)
		if _, err := io.ReadFull(str, buf); err != nil || string(buf) != "cd" {
			t.Errorf("the peer read %q, %v; want \"cd\"", buf, err)
		}
	})
	t.Run("EOF", func(t *testing.T) {
		s, raw := serverRaw(t, early)
		c, str := rawOpenEarly(t, s, raw)
		str.Close()
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("Read of a channel its peer closed at once: %d, %v; want 0, io.EOF", n, err)
		}
		if _, err := c.Write([]byte("x")); err != nil {
			t.Errorf("Write after that: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Wait(); err != nil {
			t.Errorf("Wait: %v, want nil (no protocol error)", err)
		}
	})
}

func TestEarlyOpenContext(t *testing.T) {
	// The acceptor lets one channel be open at a time.
	a, b, stop := sessionPairs(t, early, &quic.Config{MaxIncomingStreams: 1})
	defer stop()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Open(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v, want context.Canceled", err)
	}

	// ctx bounds only the Open: the channel outlives it.
	ctx, cancel := context.WithCancel(testContext(t))
	first, err := a.Open(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if first.ID() != 0 {
		t.Errorf("first channel ID %d, want 0: a cancelled Open took a stream", first.ID())
	}
	accepted, err := b.Accept(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Write([]byte("ping")); err != nil {
		t.Fatalf("Write after the Open's context was cancelled: %v", err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(accepted, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v; want \"ping\"", buf, err)
	}

	// An Open waiting for a stream ends when its context is cancelled;
	// it cannot succeed while first is open.
	ctx, cancel = context.WithCancel(testContext(t))
	opened := make(chan error, 1)
	go func() {
		c, err := a.Open(ctx)
		if err == nil {
			c.Close()
		}
		opened <- err
	}()
	cancel()
	if err := <-opened; !errors.Is(err, context.Canceled) {
		t.Errorf("Open waiting for a stream, cancelled: %v, want context.Canceled", err)
	}

	// Nothing is left of it: once first is closed, the next channel is
	// the next stream, and the next Accept.
	roundTrip(t, first, accepted)
	oc, ac := openPair(t, a, b)
	if oc.ID() != 4 || ac.ID() != 4 {
		t.Errorf("channel after the cancelled Open: IDs %d and %d, want 4", oc.ID(), ac.ID())
	}
	roundTrip(t, oc, ac)
}

// TestOpenNoAnswerWanted has a raw peer open with header 0x02, as an
// early opener does: the acceptor queues such opens, holds them while its
// backlog is full and refuses them beyond, as it does those with header
// 0x01, but never writes a confirmation on them.
func TestOpenNoAnswerWanted(t *testing.T) {
	s, raw := rawPeer(t, &quic.Config{AcceptBacklog: 1})
	ctx := testContext(t)
	queued := rawOpen(t, raw, 0x01)
	if b, err := readAnswer(queued); err != nil || b != 0x01 {
		t.Fatalf("open within the backlog: answer %#x, %v; want 0x01", b, err)
	}
	// Of two opens that want no answer, one is held while the backlog is
	// full and the other refused.
	x, y := rawOpen(t, raw, 0x02, 'h', 'i'), rawOpen(t, raw, 0x02, 'h', 'i')
	held, refused := x, y
	select {
	case <-x.Context().Done():
		held, refused = y, x
	case <-y.Context().Done():
	case <-ctx.Done():
		t.Fatal("no open refused beyond the backlog")
	}
	var se *quicgo.StreamError
	if _, err := readAnswer(refused); !errors.As(err, &se) || !se.Remote || se.ErrorCode != 1 {
		t.Errorf("reading the open refused beyond the backlog: %v, want a reset with code 1 (rejected)", err)
	}
	if err := context.Cause(refused.Context()); !errors.As(err, &se) || se.ErrorCode != 1 {
		t.Errorf("the refused open's send side: %v, want STOP_SENDING with code 1", err)
	}

	// Each accepted channel answers "ok" and closes: what the raw peer
	// reads after the answer to its open, if it wanted one, is just that.
	for _, want := range []*quicgo.Stream{queued, held} {
		c, err := s.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID() != uint64(want.StreamID()) {
			t.Fatalf("accepted channel %d, want %d", c.ID(), want.StreamID())
		}
		if want == held {
			buf := make([]byte, 2)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
				t.Errorf("the held channel read %q, %v; want \"hi\"", buf, err)
			}
		}
		if _, err := c.Write([]byte("ok")); err != nil {
			t.Fatal(err)
		}
		c.Close()
		want.SetReadDeadline(time.Now().Add(20 * time.Second))
		if data, err := io.ReadAll(want); err != nil || string(data) != "ok" {
			t.Errorf("stream %d: the opener read %q, %v; want \"ok\"", want.StreamID(), data, err)
		}
	}
}

// TestEarlyCloseBeforeAnswer checks that a channel its opener wrote to
// and closed before it was confirmed, held while the backlog was full,
// still reaches Accept with its data, whether the opener wants an answer
// (header 0x01, the confirmation then fails) or not (0x02).
func TestEarlyCloseBeforeAnswer(t *testing.T) {
	for _, h := range []byte{0x01, 0x02} {
		t.Run(fmt.Sprintf("Header%#02x", h), func(t *testing.T) { testCloseBeforeAnswer(t, h) })
	}
}

func testCloseBeforeAnswer(t *testing.T, h byte) {
	s, raw := rawPeer(t, &quic.Config{AcceptBacklog: 1})
	ctx := testContext(t)
	queued := rawOpen(t, raw, 0x01)
	if b, err := readAnswer(queued); err != nil || b != 0x01 {
		t.Fatalf("open within the backlog: answer %#x, %v; want 0x01", b, err)
	}
	// Of two more opens, one is held unanswered and the other refused:
	// the acceptor's STOP_SENDING with code 1 ends the send side of the
	// refused one. Both stop receiving (STOP_SENDING with code 0) as
	// Channel.Close does.
	x, y := rawOpen(t, raw, h, 'h', 'i'), rawOpen(t, raw, h, 'h', 'i')
	x.CancelRead(0)
	y.CancelRead(0)
	held, refused := x, y
	select {
	case <-x.Context().Done():
		held, refused = y, x
	case <-y.Context().Done():
	case <-ctx.Done():
		t.Fatal("no open refused beyond the backlog")
	}
	var se *quicgo.StreamError
	if err := context.Cause(refused.Context()); !errors.As(err, &se) || se.ErrorCode != 1 {
		t.Fatalf("open beyond the backlog: %v, want STOP_SENDING with code 1", err)
	}
	// The held one now ends its data (FIN). Another refused open shows
	// that the acceptor has read what came before.
	held.Close()
	probe := rawOpen(t, raw, 0x01)
	select {
	case <-probe.Context().Done():
	case <-ctx.Done():
		t.Fatal("no refusal of the probe")
	}

	for _, want := range []*quicgo.Stream{queued, held} {
		c, err := s.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID() != uint64(want.StreamID()) {
			t.Errorf("accepted channel %d, want %d", c.ID(), want.StreamID())
		}
		if want == held {
			if data, err := io.ReadAll(c); err != nil || string(data) != "hi" {
				t.Errorf("the channel closed before its answer: read %q, %v; want \"hi\"", data, err)
			}
		}
		c.Close()
	}
}

// TestOpenEarlyMethod checks mux.EarlyOpener on a session in the default
// mode: OpenEarly sends the open that asks for no answer, the peer's
// refusal reaches Read, and while the peer's stream limit is reached it
// fails at once with mux.ErrTooManyChannels instead of waiting.
func TestOpenEarlyMethod(t *testing.T) {
	t.Run("Refused", func(t *testing.T) {
		s, raw := serverRaw(t, nil)
		c, err := s.OpenEarly(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		str, err := raw.AcceptStream(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if b, err := readAnswer(str); err != nil || b != 0x02 {
			t.Fatalf("open header %#x, %v; want 0x02", b, err)
		}
		str.CancelRead(1)
		str.CancelWrite(1)
		if _, err := c.Read(make([]byte, 8)); !errors.Is(err, mux.ErrOpenRejected) {
			t.Fatalf("Read: %v, want ErrOpenRejected", err)
		}
	})
	t.Run("StreamLimit", func(t *testing.T) {
		a, b, stop := sessionPairs(t, &quic.Config{}, &quic.Config{MaxIncomingStreams: 1})
		defer stop()
		oc, ac := openPair(t, a, b)
		defer oc.Close()
		defer ac.Close()
		if c, err := a.OpenEarly(testContext(t)); !errors.Is(err, mux.ErrTooManyChannels) {
			if err == nil {
				c.Close()
			}
			t.Fatalf("OpenEarly past the peer's stream limit: %v, want ErrTooManyChannels", err)
		}
		roundTrip(t, oc, ac) // the open channel is unaffected
	})
}
