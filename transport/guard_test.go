package transport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport"
)

// refusedAtOnce checks that the listener closed c without reading from
// it: a read ends (EOF or reset) well before the guard deadline.
func refusedAtOnce(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, syscall.ETIMEDOUT) || isTimeout(err) {
		t.Fatalf("read on a connection past the limit: %v, want it closed by the listener", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// acceptHeld dials addr n times and accepts each session, returning the
// connections and the sessions.
func acceptHeld(t *testing.T, ln transport.Listener, network, addr string, n int) ([]net.Conn, []mux.Session) {
	t.Helper()
	var conns []net.Conn
	var sessions []mux.Session
	for range n {
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
		sess, err := ln.Accept(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		sessions = append(sessions, sess)
	}
	return conns, sessions
}

// freeOne closes the first held connection and waits until its session
// has ended, and with it the listener's count of it.
func freeOne(conns []net.Conn, sessions []mux.Session) {
	conns[0].Close()
	sessions[0].Wait()
}

func TestConnLimitPerIP(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "tcp/$4:0", transport.WithConnLimits(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	held, sessions := acceptHeld(t, ln, "tcp", addr, 2)

	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	refusedAtOnce(t, extra)

	// Once a held connection is closed and its session ends, its place
	// is free again.
	freeOne(held, sessions)
	acceptHeld(t, ln, "tcp", addr, 1)
}

func TestConnLimitTotal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.sock")
	ln, err := transport.Listen(context.Background(), "unix://"+path, transport.WithConnLimits(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held, sessions := acceptHeld(t, ln, "unix", path, 1)
	extra, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	refusedAtOnce(t, extra)
	freeOne(held, sessions)
	acceptHeld(t, ln, "unix", path, 1)
}

// TestConnLimitWebSocket: the ws listener counts connections from the
// TCP accept, before any upgrade.
func TestConnLimitWebSocket(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "ws://127.0.0.1:0/q", transport.WithConnLimits(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// The server has the held connection once it answers a request on it.
	io.WriteString(held, "GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")
	held.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := held.Read(make([]byte, 1)); err != nil {
		t.Fatalf("the held connection got no answer: %v", err)
	}
	extra, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	refusedAtOnce(t, extra)
}

// TestWebSocketHandshakeTimeout: a client that connects and sends half a
// request is cut off after the handshake timeout.
func TestWebSocketHandshakeTimeout(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "ws://127.0.0.1:0/q", transport.WithHandshakeTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /q HTTP/1.1\r\n")
	start := time.Now()
	c.SetReadDeadline(start.Add(5 * time.Second))
	io.Copy(io.Discard, c) // until the server closes it (maybe after a 408)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a stalled upgrade was held %v, want about the 200ms handshake timeout", d)
	}
}

// TestTLSHandshakeTimeout: a client that connects and never says hello
// is cut off after the handshake timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "tls://127.0.0.1:0", transport.WithHandshakeTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(5 * time.Second))
	io.Copy(io.Discard, c)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a silent TLS client was held %v, want about the 200ms handshake timeout", d)
	}
}

// fakeListener fails its first accepts with EMFILE, then hands out
// connections from a pipe.
type fakeListener struct {
	mu     sync.Mutex
	fails  int
	closed chan struct{}
	once   sync.Once
}

func (l *fakeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
	}
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	c, _ := net.Pipe()
	return c, nil
}

func (l *fakeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestAcceptOutOfFiles: accepts failing with EMFILE are retried with
// backoff, logged once, and the listener goes on.
func TestAcceptOutOfFiles(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	fake := &fakeListener{fails: 5, closed: make(chan struct{})}
	ln := transport.GuardListener(fake, transport.WithLogger(log))
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept after EMFILE: %v, want a connection once files are back", err)
	}
	c.Close()
	if n := strings.Count(logs.String(), "accept failed"); n != 1 {
		t.Errorf("5 failed accepts logged %d times, want once per interval:\n%s", n, logs.String())
	}
}

// TestAcceptOutOfFilesClose: Close ends an Accept waiting out EMFILE.
func TestAcceptOutOfFilesClose(t *testing.T) {
	fake := &fakeListener{fails: 1 << 30, closed: make(chan struct{})}
	ln := transport.GuardListener(fake, transport.WithLogger(slog.New(slog.DiscardHandler)))
	errc := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		errc <- err
	}()
	ln.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// TestListenerIdleTimeout: a session accepted from a client that sends
// nothing ends after the listener's idle timeout.
func TestListenerIdleTimeout(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "tcp/$4:0", transport.WithIdleTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, sessions := acceptHeld(t, ln, "tcp", ln.Addr().String(), 1)
	ended := make(chan error, 1)
	go func() { ended <- sessions[0].Wait() }()
	select {
	case err := <-ended:
		if !errors.Is(err, qmux.ErrIdleTimeout) {
			t.Errorf("Wait: %v, want qmux.ErrIdleTimeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a silent client's session is still up after 5s, with an idle timeout of 200ms")
	}
}

// ServerIdleTimeout applies the default, and a negative value turns the
// idle timeout off.
func TestServerIdleTimeout(t *testing.T) {
	for _, c := range []struct{ set, want time.Duration }{
		{0, transport.DefaultServerIdleTimeout},
		{time.Second, time.Second},
		{-1, 0},
	} {
		o := &transport.Options{IdleTimeout: c.set}
		if got := o.ServerIdleTimeout(); got != c.want {
			t.Errorf("ServerIdleTimeout with IdleTimeout %v = %v, want %v", c.set, got, c.want)
		}
	}
}
