package muxtest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// testListener serves HTTP on mux.Listener(b) to a client whose
// connections are channels opened by a, then closes the listener.
func testListener(t *testing.T, a, b mux.Session) {
	l := mux.Listener(b)
	if l.Addr() == nil {
		t.Errorf("listener Addr is nil")
	}
	const body = "hello over a channel"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	})}
	served := goErr(func() error { return srv.Serve(l) })
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return a.Open(ctx)
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	got := await(t, "HTTP GET over a channel", func() error {
		ctx, cancel := stepContext()
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://mux/hello", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || string(b) != body {
			return errors.New("unexpected response " + resp.Status + ": " + string(b))
		}
		return nil
	})
	noErr(t, got, "HTTP GET")
	tr.CloseIdleConnections()
	noErr(t, srv.Close(), "http.Server Close")
	checkErr(t, recv(t, served, "Serve to return after Close"), "Serve after Close", http.ErrServerClosed)

	// Closing a listener ends its pending Accept, not the session.
	l = mux.Listener(b)
	accepted := goErr(func() error {
		c, err := l.Accept()
		if err == nil {
			c.Close()
			return errors.New("accepted a channel nobody opened")
		}
		return err
	})
	assertBlocked(t, accepted, "listener Accept with nothing opened")
	noErr(t, l.Close(), "listener Close")
	checkErr(t, recv(t, accepted, "listener Accept to return after Close"), "listener Accept after Close", net.ErrClosed)
	oc, ac := pair(t, a, b)
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
}
