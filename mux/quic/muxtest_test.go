package quic_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/muxtest"
	"github.com/qtalkkit/qtalk/mux/quic"
)

// TestConformance runs the mux conformance suite over loopback UDP.
// Session.Close loses what the peer has not read (see the package doc,
// "Sessions").
func TestConformance(t *testing.T) {
	muxtest.RunOptions(t, func(t testing.TB) (a, b mux.Session, stop func()) {
		return sessionPair(t, nil)
	}, muxtest.Options{CloseLosesUnread: true})
}

// TestConformanceEarlyOpen runs the suite with both ends opening early.
func TestConformanceEarlyOpen(t *testing.T) {
	muxtest.RunOptions(t, func(t testing.TB) (a, b mux.Session, stop func()) {
		return sessionPair(t, &quic.Config{EarlyOpen: true})
	}, muxtest.Options{EarlyOpen: true, CloseLosesUnread: true})
}

// TestRefusal checks how a refused open is reported, with Open waiting
// for the answer and with Config.EarlyOpen.
func TestRefusal(t *testing.T) {
	backlog1 := &quic.Config{AcceptBacklog: 1}
	for _, tc := range []struct {
		name   string
		opener *quic.Config
	}{{"Open", nil}, {"EarlyOpen", &quic.Config{EarlyOpen: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			muxtest.RunRefusal(t, func(t testing.TB) (a, b mux.Session, stop func()) {
				return sessionPairs(t, tc.opener, backlog1)
			}, muxtest.Options{EarlyOpen: tc.opener != nil})
		})
	}
}

// sessionPair listens on loopback with a self-signed certificate, dials it
// with the pin, and returns the two sessions; stop closes both and the
// listener.
func sessionPair(t testing.TB, cfg *quic.Config) (a, b *quic.Session, stop func()) {
	t.Helper()
	return sessionPairs(t, cfg, cfg)
}

// sessionPairs is sessionPair with a config for each end: dialer a, and
// listener b.
func sessionPairs(t testing.TB, acfg, bcfg *quic.Config) (a, b *quic.Session, stop func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ln, err := quic.Listen(ctx, "127.0.0.1:0", nil, bcfg)
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		s   mux.Session
		err error
	}
	accepted := make(chan res, 1)
	go func() {
		s, err := ln.Accept(ctx)
		accepted <- res{s, err}
	}()
	a, err = quic.Dial(ctx, ln.Addr().String(), pinned(ln.Fingerprint()), acfg)
	if err != nil {
		ln.Close()
		<-accepted
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		a.Close()
		ln.Close()
		t.Fatal(r.err)
	}
	ln.Close() // the accepted session keeps the socket
	b = r.s.(*quic.Session)
	return a, b, func() {
		a.Close()
		b.Close()
	}
}

// pinned returns a client TLS config that accepts only the certificate
// with the fingerprint fp (see Listener.Fingerprint).
func pinned(fp string) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // replaced by the check of the fingerprint
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || tlsconf.Fingerprint(cs.PeerCertificates[0].Raw) != fp {
				return errors.New("the server's certificate is not the pinned one")
			}
			return nil
		},
	}
}
