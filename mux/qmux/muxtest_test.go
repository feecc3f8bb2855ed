package qmux_test

import (
	"context"
	"net"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/muxtest"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// TestConformance runs the mux conformance suite over an in-memory pipe
// and over loopback TCP.
func TestConformance(t *testing.T) {
	t.Run("Pipe", func(t *testing.T) { muxtest.Run(t, pipePair) })
	t.Run("TCP", func(t *testing.T) { muxtest.Run(t, tcpPair) })
}

// TestConformanceEarlyOpen runs the suite with every Open made by
// OpenEarly.
func TestConformanceEarlyOpen(t *testing.T) {
	early := func(t testing.TB) (a, b mux.Session, stop func()) {
		a, b, stop = pipePair(t)
		return earlySession{a.(*qmux.Session)}, earlySession{b.(*qmux.Session)}, stop
	}
	muxtest.RunOptions(t, early, muxtest.Options{EarlyOpen: true})
}

// earlySession opens its channels with OpenEarly.
type earlySession struct{ *qmux.Session }

func (s earlySession) Open(ctx context.Context) (mux.Channel, error) { return s.OpenEarly(ctx) }

// TestRefusal checks how a refused open is reported, with Open waiting
// for the answer and with OpenEarly.
func TestRefusal(t *testing.T) {
	backlog1 := func(t testing.TB) (a, b mux.Session, stop func()) {
		c1, c2 := pipe.New()
		return sessions(t, c1, c2, &qmux.Config{AcceptBacklog: 1})
	}
	t.Run("Open", func(t *testing.T) { muxtest.RunRefusal(t, backlog1, muxtest.Options{}) })
	t.Run("OpenEarly", func(t *testing.T) {
		muxtest.RunRefusal(t, func(t testing.TB) (a, b mux.Session, stop func()) {
			a, b, stop = backlog1(t)
			return earlySession{a.(*qmux.Session)}, b, stop
		}, muxtest.Options{EarlyOpen: true})
	})
}

// TestConformanceWithout runs the suite with each fast path switched off
// in turn, over loopback TCP, where every one of them applies, so that the
// data path is checked without each speed-up.
func TestConformanceWithout(t *testing.T) {
	for _, name := range qmux.SpeedupNames() {
		t.Run(name, func(t *testing.T) {
			cfg := qmux.ConfigWithout(name)
			muxtest.Run(t, func(t testing.TB) (a, b mux.Session, stop func()) { return tcpPairConfig(t, cfg) })
		})
	}
}

// sessions runs qmux on both ends and returns a stop that closes both and
// waits for them to end.
func sessions(t testing.TB, c1, c2 net.Conn, cfg *qmux.Config) (a, b mux.Session, stop func()) {
	sa, err := qmux.New(c1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := qmux.New(c2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sa, sb, func() {
		sa.Close()
		sb.Close()
		sa.Wait()
		sb.Wait()
	}
}

func pipePair(t testing.TB) (a, b mux.Session, stop func()) {
	c1, c2 := pipe.New()
	return sessions(t, c1, c2, nil)
}

func tcpPair(t testing.TB) (a, b mux.Session, stop func()) {
	return tcpPairConfig(t, nil)
}

func tcpPairConfig(t testing.TB, cfg *qmux.Config) (a, b mux.Session, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	accepted := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		accepted <- res{c, err}
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		c1.Close()
		t.Fatal(r.err)
	}
	return sessions(t, c1, r.c, cfg)
}
