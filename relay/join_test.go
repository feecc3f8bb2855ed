package relay_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/relay"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// testTimeout bounds every wait of a test.
const testTimeout = 20 * time.Second

// tlsOptions returns the options of both sides of tls and wss: a
// certificate for 127.0.0.1 and the CA that signed it.
func tlsOptions(t *testing.T) transport.Option {
	ca := testcert.NewCA(t)
	return transport.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{ca.Valid(t)}, RootCAs: ca.Pool})
}

// shortDir returns a new directory with a short path, for unix sockets.
func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "relay")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// A target is an address serving echoHash.
type target struct {
	name      string
	halfClose bool // its connections can be half-closed
	start     func(t *testing.T, opts transport.Option) string
}

// listenEcho serves echoHash on the raw connections of addr and returns
// the address with the port chosen.
func listenEcho(t *testing.T, addr string, opts transport.Option, format func(net.Addr) string) string {
	t.Helper()
	ln, err := transport.ListenConns(context.Background(), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := ln.AcceptConn(context.Background())
			if err != nil {
				return
			}
			go echoHash(conn)
		}
	}()
	return format(ln.Addr())
}

var targets = []target{
	{"tcp", true, func(t *testing.T, o transport.Option) string {
		return listenEcho(t, "tcp://127.0.0.1:0", o, func(a net.Addr) string { return "tcp://" + a.String() })
	}},
	{"unix", true, func(t *testing.T, o transport.Option) string {
		path := filepath.Join(shortDir(t), "e.sock")
		return listenEcho(t, "unix://"+path, o, func(net.Addr) string { return "unix://" + path })
	}},
	{"tls", true, func(t *testing.T, o transport.Option) string {
		return listenEcho(t, "tls://127.0.0.1:0", o, func(a net.Addr) string { return "tls://" + a.String() })
	}},
	{"ws", false, func(t *testing.T, o transport.Option) string {
		return listenEcho(t, "ws://127.0.0.1:0/echo", o, func(a net.Addr) string { return "ws://" + a.String() + "/echo" })
	}},
	{"exec", true, func(t *testing.T, o transport.Option) string {
		return "exec:'" + os.Args[0] + "' " + echoChild
	}},
	{"label", true, func(t *testing.T, o transport.Option) string {
		return serveLabel(t) + "!echo:raw"
	}},
	{"subport", true, func(t *testing.T, o transport.Option) string {
		echo := listenEcho(t, "tcp://127.0.0.1:0", o, func(a net.Addr) string { return "tcp://" + a.String() })
		r := newRouter(t, nil, relay.WithTransportOptions(o))
		from := "tcp://127.0.0.1:0!echo"
		update(t, r, relay.Route{Name: "echo", From: from, To: echo})
		return "tcp://" + r.Addr(from).String() + "!echo"
	}},
}

// serveLabel serves echo:raw, which echoes the raw bytes of its call as
// echoHash does, on a qtalk tcp listener and returns its address.
func serveLabel(t *testing.T) string {
	t.Helper()
	ln, err := transport.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := rpc.NewRespondMux()
	mux.HandleFunc("echo:raw", func(r rpc.Responder, c *rpc.Call) {
		if c.Receive(nil) != nil || r.Continue(nil) != nil {
			return
		}
		echoHash(r.Conn())
	})
	srv := &rpc.Server{Handler: mux}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return "tcp://" + ln.Addr().String()
}

// A source is what a pipe listens on: the route's From and the address a
// client dials it by.
type source struct {
	name      string
	halfClose bool
	from      func(t *testing.T) string
	dial      func(from string, ln net.Addr) string
}

var sources = []source{
	{"tcp", true, func(*testing.T) string { return "tcp://127.0.0.1:0" }, func(_ string, a net.Addr) string { return "tcp://" + a.String() }},
	{"unix", true, func(t *testing.T) string { return "unix://" + filepath.Join(shortDir(t), "in.sock") }, func(from string, _ net.Addr) string { return from }},
	{"tls", true, func(*testing.T) string { return "tls://127.0.0.1:0" }, func(_ string, a net.Addr) string { return "tls://" + a.String() }},
	{"ws", false, func(*testing.T) string { return "ws://127.0.0.1:0/in" }, func(_ string, a net.Addr) string { return "ws://" + a.String() + "/in" }},
	{"wss", false, func(*testing.T) string { return "wss://127.0.0.1:0/in" }, func(_ string, a net.Addr) string { return "wss://" + a.String() + "/in" }},
	{"subport", true, func(*testing.T) string { return "tcp://127.0.0.1:0!in" }, func(_ string, a net.Addr) string { return "tcp://" + a.String() + "!in" }},
}

func newRouter(t *testing.T, cfg *relay.Config, opts ...relay.RouterOption) *relay.Router {
	r := relay.NewRouter(cfg, opts...)
	t.Cleanup(func() { r.Close() })
	return r
}

func update(t *testing.T, r *relay.Router, routes ...relay.Route) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := r.Update(ctx, routes); err != nil {
		t.Fatal(err)
	}
}

func dial(t *testing.T, addr string, opts ...transport.Option) io.ReadWriteCloser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	conn, err := relay.Dial(ctx, addr, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// roundTrip sends size random bytes on conn while reading them back from
// an echoHash at the other end of a pipe. With halfClose, it then
// half-closes conn and expects the SHA-256 of the bytes and the end;
// otherwise it closes conn once it has the bytes back.
func roundTrip(t *testing.T, conn io.ReadWriteCloser, size int, halfClose bool) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	timer := time.AfterFunc(testTimeout, func() { conn.Close() })
	defer timer.Stop()
	wrote := make(chan error, 1)
	go func() {
		_, err := conn.Write(data)
		if err == nil && halfClose {
			err = conn.(interface{ CloseWrite() error }).CloseWrite()
		}
		wrote <- err
	}()
	var got []byte
	var err error
	if halfClose {
		got, err = io.ReadAll(conn)
	} else {
		got = make([]byte, size)
		_, err = io.ReadFull(conn, got)
	}
	if werr := <-wrote; werr != nil {
		t.Fatalf("write: %v", werr)
	}
	if err != nil {
		t.Fatalf("read: %v after %d bytes", err, len(got))
	}
	conn.Close()
	want := data
	if halfClose {
		sum := sha256.Sum256(data)
		want = append(bytes.Clone(data), sum[:]...)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("got %d bytes back (sha256 %x), want %d (sha256 %x)", len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

// TestPipePairs pipes checksummed bytes through every source and target:
// both ways at once, with the half-close passed on wherever both ends
// can be half-closed.
func TestPipePairs(t *testing.T) {
	opts := tlsOptions(t)
	for _, src := range sources {
		for _, dst := range targets {
			t.Run(src.name+"-"+dst.name, func(t *testing.T) {
				to := dst.start(t, opts)
				ended := make(chan error, 1)
				r := newRouter(t, nil, relay.WithTransportOptions(opts), relay.WithPipeEnded(func(_ relay.Route, err error) { ended <- err }))
				from := src.from(t)
				update(t, r, relay.Route{Name: "test", From: from, To: to})
				conn := dial(t, src.dial(from, r.Addr(from)), opts)
				roundTrip(t, conn, 256<<10, src.halfClose && dst.halfClose)
				select {
				case err := <-ended:
					// Both ends closed together: the pipe ended once the
					// client closed, cleanly where the half-close passed.
					if src.halfClose && dst.halfClose && err != nil {
						t.Errorf("pipe ended with %v, want nil", err)
					}
				case <-time.After(testTimeout):
					t.Fatal("the pipe did not end after the client closed")
				}
			})
		}
	}
}

// TestJoinIdle ends a pipe that moves nothing with ErrIdle and closes
// both ends.
func TestJoinIdle(t *testing.T) {
	a1, a2 := net.Pipe()
	b1, b2 := net.Pipe()
	defer a1.Close()
	defer b2.Close()
	done := make(chan error, 1)
	go func() {
		done <- relay.Join(context.Background(), a2, b1, &relay.Config{IdleTimeout: 50 * time.Millisecond})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, relay.ErrIdle) {
			t.Fatalf("Join = %v, want ErrIdle", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Join did not end")
	}
	if _, err := a1.Read(make([]byte, 1)); err == nil {
		t.Error("the first end is still open")
	}
	if _, err := b2.Read(make([]byte, 1)); err == nil {
		t.Error("the second end is still open")
	}
}

// TestJoinContext ends a pipe when its context ends.
func TestJoinContext(t *testing.T) {
	a1, a2 := net.Pipe()
	b1, b2 := net.Pipe()
	defer a1.Close()
	defer b2.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- relay.Join(ctx, a2, b1, nil) }()
	stop := errors.New("stop")
	cancel(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("Join = %v, want the cause", err)
	}
}
