package rpc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/stall"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	muxquic "github.com/qtalkkit/qtalk/mux/quic"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
	tquic "github.com/qtalkkit/qtalk/transport/quic"
)

// TestKeepAliveSilentServer: a server that goes silent (a relay between
// it and the client stops forwarding, as a pulled cable or a dropped NAT
// mapping would) is found by the client's keepalive within its period and
// timeout, and every call pending on the session fails with unavailable.
func TestKeepAliveSilentServer(t *testing.T) {
	// The timeout is generous: until the relay pauses, the session must
	// not end, and over QUIC it ends once nothing was received for the
	// period plus the timeout; 300 ms in all passed, under -race with
	// both cores loaded, between the handshake and the calls' first
	// acknowledgements.
	const period, timeout = 100 * time.Millisecond, 2 * time.Second
	for _, tc := range []struct {
		scheme string
		opts   []transport.Option
		relay  func(t *testing.T, target string) (addr string, pause func())
		match  func(err error) bool // the session's end
	}{
		{
			scheme: "tcp",
			opts:   []transport.Option{transport.WithSessionConfig(&qmux.Config{KeepAlivePeriod: period, KeepAliveTimeout: timeout})},
			relay: func(t *testing.T, target string) (string, func()) {
				r, err := stall.New(target)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				return r.Addr(), func() { r.Pause(true) }
			},
			match: func(err error) bool { return errors.Is(err, qmux.ErrKeepAliveTimeout) },
		},
		{
			scheme: "quic",
			opts:   []transport.Option{tquic.WithConfig(&muxquic.Config{KeepAlivePeriod: period, KeepAliveTimeout: timeout})},
			relay: func(t *testing.T, target string) (string, func()) {
				r, err := stall.NewUDP(target)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				return r.Addr(), func() { r.Pause(true) }
			},
			match: func(err error) bool { return errors.Is(err, muxquic.ErrKeepAliveTimeout) },
		},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			ctx := context.Background()
			ln, err := transport.Listen(ctx, tc.scheme+"://127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			const calls = 8
			started := make(chan struct{}, calls)
			release := make(chan struct{})
			srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
				started <- struct{}{}
				select { // the reply would not get through anyway
				case <-release:
				case <-c.Context().Done():
				}
				r.Return(nil)
			})}
			served := make(chan mux.Session, 1)
			go func() {
				sess, err := ln.Accept(ctx)
				if err != nil {
					close(served)
					return
				}
				served <- sess
				srv.ServeSession(sess)
			}()
			addr, pause := tc.relay(t, ln.Addr().String())
			dial := tc.scheme + "://" + addr
			if fp, ok := ln.(transport.Fingerprinter); ok && fp.Fingerprint() != "" {
				dial += "?pin=" + fp.Fingerprint()
			}
			sess, err := transport.Dial(ctx, dial, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			server := <-served
			if server == nil {
				t.Fatal("the listener accepted no session")
			}
			defer func() { close(release); server.Close(); server.Wait() }()
			client := rpc.NewClient(sess)
			errs := make(chan error, calls)
			for range calls {
				go func() {
					_, err := client.Call(ctx, "wait", nil, nil)
					errs <- err
				}()
			}
			for range calls {
				select {
				case <-started:
				case err := <-errs:
					// Its handler will never start: fail, not hang.
					t.Fatalf("a call failed before the server went silent: %v (code %v)", err, rpc.CodeOf(err))
				}
			}
			pause()
			start := time.Now()
			for range calls {
				select {
				case err := <-errs:
					if rpc.CodeOf(err) != rpc.CodeUnavailable {
						t.Errorf("a pending call: %v (code %v), want unavailable", err, rpc.CodeOf(err))
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("a call still pending %v after the server went silent", time.Since(start))
				}
			}
			if err := sess.Wait(); !tc.match(err) {
				t.Errorf("the client session ended with %v, want the keepalive timeout", err)
			}
			// Found within the period (sampled every quarter of it) and
			// the timeout; the bound leaves room for a loaded machine.
			if d, want := time.Since(start), period+period/4+timeout; d > 10*want {
				t.Errorf("found after %v, want within about %v", d, want)
			}
		})
	}
}
