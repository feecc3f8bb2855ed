package qmux

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// endsWithin waits for s to end within d and returns why.
func endsWithin(t *testing.T, s *Session, d time.Duration) error {
	t.Helper()
	select {
	case <-s.done:
		return s.Wait()
	case <-time.After(d):
		t.Fatalf("the session is still up after %v", d)
		return nil
	}
}

// staysUp checks that s is still up after d.
func staysUp(t *testing.T, s *Session, d time.Duration) {
	t.Helper()
	select {
	case <-s.done:
		t.Fatalf("the session ended: %v", s.Wait())
	case <-time.After(d):
	}
}

func TestIdleTimeoutSilentPeer(t *testing.T) {
	p := newRawPeer(t, &Config{IdleTimeout: 200 * time.Millisecond})
	err := endsWithin(t, p.s, 2*time.Second)
	if !errors.Is(err, ErrIdleTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Wait: %v, want ErrIdleTimeout", err)
	}
}

// TestIdleTimeoutSlowMessage: bytes that never make a whole message are
// not traffic.
func TestIdleTimeoutSlowMessage(t *testing.T) {
	p := newRawPeer(t, &Config{IdleTimeout: 200 * time.Millisecond})
	msg := appendFrame(nil, frame{typ: msgChannelOpen, sender: 1, window: 4096, maxPacket: 1024})
	go func() {
		for _, b := range msg {
			if _, err := p.conn.Write([]byte{b}); err != nil {
				return
			}
			select {
			case <-p.s.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	if err := endsWithin(t, p.s, 2*time.Second); !errors.Is(err, ErrIdleTimeout) {
		t.Errorf("Wait: %v, want ErrIdleTimeout", err)
	}
}

// TestIdleTimeoutOpenChannel: a session with a channel open is not idle,
// however quiet; once the channel is closed, it is.
func TestIdleTimeoutOpenChannel(t *testing.T) {
	idle := 100 * time.Millisecond
	c1, c2 := pipe.New()
	a, b := newSession(t, c1, nil), newSession(t, c2, &Config{IdleTimeout: idle})
	t.Cleanup(func() { a.Close(); b.Close(); a.Wait(); b.Wait() })
	ca, cb := openPair(t, a, b)
	staysUp(t, b, 5*idle)
	ca.Close()
	cb.Close()
	if err := endsWithin(t, b, 2*time.Second); !errors.Is(err, ErrIdleTimeout) {
		t.Errorf("Wait: %v, want ErrIdleTimeout", err)
	}
}

// TestKeepAliveSilentPeer: a peer that answers nothing is detected within
// the period and the timeout.
func TestKeepAliveSilentPeer(t *testing.T) {
	p := newRawPeer(t, &Config{KeepAlivePeriod: 100 * time.Millisecond, KeepAliveTimeout: 200 * time.Millisecond})
	start := time.Now()
	if f, _ := p.next(); f.typ != msgChannelOpen {
		t.Fatalf("the probe is %+v, want an OPEN", f)
	}
	err := endsWithin(t, p.s, 2*time.Second)
	if !errors.Is(err, ErrKeepAliveTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Wait: %v, want ErrKeepAliveTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("detected after %v, want within about 125ms + 200ms", d)
	}
}

// TestKeepAliveRefused: a refusal answers a probe.
func TestKeepAliveRefused(t *testing.T) {
	p := newRawPeer(t, &Config{KeepAlivePeriod: 50 * time.Millisecond, KeepAliveTimeout: 100 * time.Millisecond})
	for range 3 {
		f, _ := p.next()
		if f.typ != msgChannelOpen {
			t.Fatalf("the probe is %+v, want an OPEN", f)
		}
		p.send(frame{typ: msgChannelOpenFailure, recipient: f.sender})
	}
	staysUp(t, p.s, 50*time.Millisecond)
}

// TestKeepAlivePlainPeer: a peer without keepalive of its own answers the
// probes as opens, and its application sees channels that end at once.
func TestKeepAlivePlainPeer(t *testing.T) {
	ca, cb := pipe.New()
	a := newSession(t, ca, &Config{KeepAlivePeriod: 50 * time.Millisecond, KeepAliveTimeout: time.Second})
	b := newSession(t, cb, nil)
	t.Cleanup(func() { a.Close(); b.Close(); a.Wait(); b.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		ch, err := b.Accept(ctx)
		if err != nil {
			t.Fatalf("Accept: %v, want the probes", err)
		}
		if n, err := io.Copy(io.Discard, ch); n != 0 || err != nil {
			t.Errorf("a probe channel read %d bytes, %v; want a clean end", n, err)
		}
		ch.Close()
	}
	staysUp(t, a, 100*time.Millisecond)
}

// TestIdleTimeoutKeepAlive: keepalive probes, this side's and the peer's,
// are no activity: a live peer that opens no channel of its own is let go
// after the idle timeout all the same.
func TestIdleTimeoutKeepAlive(t *testing.T) {
	ka := &Config{KeepAlivePeriod: 20 * time.Millisecond, KeepAliveTimeout: 5 * time.Second}
	ca, cb := pipe.New()
	a := newSession(t, ca, ka)
	b := newSession(t, cb, &Config{KeepAlivePeriod: ka.KeepAlivePeriod, KeepAliveTimeout: ka.KeepAliveTimeout, IdleTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { a.Close(); b.Close(); a.Wait(); b.Wait() })
	probes := make(chan int, 2)
	for _, s := range []*Session{a, b} {
		go func() {
			n := 0
			defer func() { probes <- n }()
			for {
				ch, err := s.Accept(context.Background())
				if err != nil {
					return
				}
				n++
				ch.Close()
			}
		}()
	}
	if err := endsWithin(t, b, 10*time.Second); !errors.Is(err, ErrIdleTimeout) {
		t.Errorf("Wait: %v, want ErrIdleTimeout", err)
	}
	a.Close()
	if n := <-probes + <-probes; n == 0 {
		t.Error("no probe was sent before the idle timeout")
	}
}

// TestKeepAliveDefault: keepalive is on unless KeepAlivePeriod is
// negative.
func TestKeepAliveDefault(t *testing.T) {
	for _, c := range []struct {
		cfg  *Config
		want time.Duration
	}{
		{nil, DefaultKeepAlivePeriod},
		{&Config{}, DefaultKeepAlivePeriod},
		{&Config{KeepAlivePeriod: time.Second}, time.Second},
		{&Config{KeepAlivePeriod: -1}, -1},
	} {
		if err := c.cfg.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", c.cfg, err)
		}
		d := c.cfg.withDefaults()
		if d.KeepAlivePeriod != c.want || d.KeepAliveTimeout != DefaultKeepAliveTimeout {
			t.Errorf("%+v with defaults has KeepAlivePeriod %v, KeepAliveTimeout %v; want %v, %v", c.cfg, d.KeepAlivePeriod, d.KeepAliveTimeout, c.want, DefaultKeepAliveTimeout)
		}
	}
	if err := (&Config{KeepAliveTimeout: -1}).Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Validate with a negative KeepAliveTimeout: %v, want ErrInvalidConfig", err)
	}
}

// TestWriteTimeout: a peer that stops reading the connection ends the
// session once a write has waited WriteTimeout, and a Write pending on a
// channel fails, instead of both waiting for good.
func TestWriteTimeout(t *testing.T) {
	p := newRawPeerTCP(t, &Config{KeepAlivePeriod: -1, WriteTimeout: 200 * time.Millisecond})
	opened := make(chan mux.Channel, 1)
	go func() {
		ch, err := p.s.Open(context.Background())
		if err != nil {
			close(opened)
			return
		}
		opened <- ch
	}()
	f, _ := p.next()
	if f.typ != msgChannelOpen {
		t.Fatalf("session wrote %+v, want an OPEN", f)
	}
	p.send(frame{typ: msgChannelOpenConfirm, recipient: f.sender, sender: 1, window: math.MaxUint32, maxPacket: 32 << 10})
	ch := <-opened
	if ch == nil {
		t.Fatal("Open failed")
	}
	// The peer reads no more: more than the socket buffers hold is
	// written, and the session's writer waits.
	wrote := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<20)
		for range 256 {
			if _, err := ch.Write(buf); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	err := endsWithin(t, p.s, 10*time.Second)
	if !errors.Is(err, ErrWriteTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Wait: %v, want ErrWriteTimeout", err)
	}
	if err := <-wrote; !errors.Is(err, mux.ErrSessionClosed) {
		t.Errorf("the pending Write: %v, want ErrSessionClosed", err)
	}
}
