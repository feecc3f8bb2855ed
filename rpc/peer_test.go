package rpc_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// peerReply is what the handler of TestCallPeer tells of its caller.
type peerReply struct {
	Identity string
	Addr     string
	TLS      bool
}

func peerHandler(r rpc.Responder, c *rpc.Call) {
	p := c.Peer()
	r.Return(peerReply{Identity: p.Identity(), Addr: p.Addr.String(), TLS: p.TLS != nil})
}

func TestCallPeer(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	file := func(name string) string { return filepath.Join(dir, name) }
	ca.WriteCA(t, file("ca.pem"))
	testcert.WriteFiles(t, ca.Valid(t), file("server.pem"), file("server-key.pem"))
	testcert.WriteFiles(t, ca.Client(t, "app", "spiffe://example.org/app"), file("spiffe.pem"), file("spiffe-key.pem"))
	testcert.WriteFiles(t, ca.Client(t, "worker"), file("worker.pem"), file("worker-key.pem"))
	load := func(f transport.TLSFiles) *transport.CertFiles {
		c, err := transport.LoadTLSFiles(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	server := load(transport.TLSFiles{Cert: file("server.pem"), Key: file("server-key.pem"), CA: file("ca.pem")})
	// A server that asks for no client certificate.
	open := load(transport.TLSFiles{Cert: file("server.pem"), Key: file("server-key.pem")})

	for _, scheme := range []string{"tls", "wss", "quic"} {
		for _, tc := range []struct {
			name   string
			server *transport.CertFiles
			client transport.TLSFiles
			want   string
		}{
			{"spiffe", server, transport.TLSFiles{Cert: file("spiffe.pem"), Key: file("spiffe-key.pem"), CA: file("ca.pem")}, "spiffe://example.org/app"},
			{"common name", server, transport.TLSFiles{Cert: file("worker.pem"), Key: file("worker-key.pem"), CA: file("ca.pem")}, "worker"},
			{"unverified", open, transport.TLSFiles{Cert: file("worker.pem"), Key: file("worker-key.pem"), CA: file("ca.pem")}, ""},
		} {
			t.Run(scheme+"/"+tc.name, func(t *testing.T) {
				client := load(tc.client)
				var cs mux.Session
				h := startFunc(t, transportCase{scheme, func(t testing.TB) (mux.Session, mux.Session) {
					c, s := addressPairWith(t, scheme, "127.0.0.1:0",
						[]transport.Option{transport.WithTLSConfig(tc.server.ServerConfig())},
						[]transport.Option{transport.WithTLSConfig(client.ClientConfig())})
					cs = c
					return c, s
				}}, peerHandler)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				var got peerReply
				if _, err := h.client.Call(ctx, "peer", nil, &got); err != nil {
					t.Fatal(err)
				}
				// The client's side of a WebSocket does not know its
				// address, nor does a QUIC socket bound to 0.0.0.0.
				want := peerReply{Identity: tc.want, Addr: got.Addr, TLS: true}
				if got != want || !isLoopbackFrom(got.Addr, cs.LocalAddr()) {
					t.Errorf("the handler saw %+v, want %+v from the client at %s", got, want, cs.LocalAddr())
				}
			})
		}
	}
	t.Run("tcp", func(t *testing.T) {
		h := startFunc(t, tcp, peerHandler)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var got peerReply
		if _, err := h.client.Call(ctx, "peer", nil, &got); err != nil {
			t.Fatal(err)
		}
		if want := (peerReply{Addr: h.cs.LocalAddr().String()}); got != want {
			t.Errorf("the handler saw %+v, want %+v", got, want)
		}
	})
}

// isLoopbackFrom reports whether addr is 127.0.0.1 with the port of
// local, if local has one.
func isLoopbackFrom(addr string, local net.Addr) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || port == "0" {
		return false
	}
	_, lport, err := net.SplitHostPort(local.String())
	return err != nil || lport == port
}
