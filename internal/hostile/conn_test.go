package hostile_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// The budgets of the connection rows, short so that the suite stays
// quick: spec/limits.md gives the defaults.
const (
	connIdleTimeout = time.Second
	// What an idle connection may cost the server until its idle timeout:
	// its session's buffers and goroutines (a few KiB each), with room
	// for a loaded machine's garbage.
	idleConnHeap = 64 << 10
)

// hostPort returns the host:port of a transport address.
func hostPort(addr string) string {
	rest := addr[strings.Index(addr, "://")+3:]
	if i := strings.Index(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// dialIdle opens n connections to addr and returns them; with upgrade,
// each first completes a WebSocket upgrade of path. They send nothing
// more.
func dialIdle(t *testing.T, addr string, n int, upgrade bool) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", hostPort(addr))
		if err != nil {
			t.Fatalf("dial #%d: %v", len(conns), err)
		}
		conns = append(conns, c)
		if !upgrade {
			continue
		}
		fmt.Fprintf(c, "GET /qtalk HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", hostPort(addr))
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("WebSocket upgrade #%d: %v %v", len(conns), resp, err)
		}
		c.SetReadDeadline(time.Time{})
	}
	return conns
}

// waitClosed waits until the server closed each of conns: a read ends
// (with EOF, or a reset) rather than timing out.
func waitClosed(t *testing.T, conns []net.Conn, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	buf := make([]byte, 512)
	for i, c := range conns {
		c.SetReadDeadline(deadline)
		for {
			_, err := c.Read(buf) // a WebSocket's close frame first
			if err == nil {
				continue
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("connection #%d of %d still open %v after the attack began", i, len(conns), within)
			}
			break
		}
	}
}

// TestIdleConnections: 2000 idle TCP connections, and 1000 idle
// WebSockets, were each held for good (and logged). Each now costs a
// bounded amount while it lasts, and the server closes it after the idle
// timeout while the attacker keeps its end open.
func TestIdleConnections(t *testing.T) {
	for _, c := range []struct {
		scheme string
		conns  int
	}{
		{"tcp", 2000},
		{"ws", 1000},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			tg := startTargetOn(t, c.scheme, []transport.Option{
				transport.WithConnLimits(4096, 4096),
				transport.WithIdleTimeout(connIdleTimeout),
			})
			baseGoroutines, baseHeap := runtime.NumGoroutine(), heapInuse()
			conns := dialIdle(t, tg.addr, c.conns, c.scheme == "ws")
			// While they last: per connection, a session's reader and
			// writer and the rpc server's accept loop (and net/http's
			// for a WebSocket).
			if n, max := runtime.NumGoroutine(), baseGoroutines+5*c.conns+goodSlack; n > max {
				t.Errorf("%d goroutines with %d idle connections, want at most %d", n, c.conns, max)
			}
			if heap, max := heapInuse(), baseHeap+uint64(c.conns)*idleConnHeap; heap > max {
				t.Errorf("heap %d MiB with %d idle connections, want at most %d MiB", heap/MiB, c.conns, max/MiB)
			}
			waitClosed(t, conns, 30*time.Second)
			settle(t, tg, baseGoroutines)
		})
	}
}

// TestSlowHeader: a qmux message header sent a byte at a time (here every
// 100 ms; 1 byte/s in the report) never completes a message: the idle
// timeout cuts the connection off.
func TestSlowHeader(t *testing.T) {
	tg := startTargetOn(t, "tcp", []transport.Option{transport.WithIdleTimeout(connIdleTimeout)})
	baseGoroutines := runtime.NumGoroutine()
	start := time.Now() // before the server's session, whose idle time counts from its start
	c := dialIdle(t, tg.addr, 1, false)[0]
	// An OPEN: type 100, then 12 bytes the peer never finishes.
	header := []byte{100, 0, 0, 0, 1, 0, 0, 0x10, 0, 0, 0, 0x10}
	closed := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, c)
		closed <- err
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for _, b := range header {
		select {
		case <-closed:
			if d := time.Since(start); d < connIdleTimeout {
				t.Errorf("cut off after %v, before the idle timeout", d)
			}
			settle(t, tg, baseGoroutines)
			return
		case <-tick.C:
		}
		c.Write([]byte{b})
	}
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("a header sent a byte at a time still holds the connection")
	}
	settle(t, tg, baseGoroutines)
}

// TestPerIPLimit: connections from one address past the per-IP limit are
// closed as soon as they are accepted, those within it are served, and
// once the attacker leaves a new client is served.
func TestPerIPLimit(t *testing.T) {
	const perIP = 32
	tg := startTargetOn(t, "tcp", []transport.Option{transport.WithConnLimits(4096, perIP)})
	baseGoroutines := runtime.NumGoroutine()
	// The good client's connection is one of the address's.
	held := dialIdle(t, tg.addr, perIP-1, false)
	over := dialIdle(t, tg.addr, 3*perIP, false)
	waitClosed(t, over, 20*time.Second)
	for _, c := range held {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("the server wrote to a connection that sent nothing")
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("a connection within the limit was closed: %v", err)
		}
	}
	for _, c := range held {
		c.Close()
	}
	settle(t, tg, baseGoroutines)
	checkServes(t, tg.addr)
}

// checkServes checks that a new client is served at addr.
func checkServes(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := transport.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("a new client after the attack: %v", err)
	}
	defer sess.Close()
	var got string
	if _, err := rpc.NewClient(sess).Call(ctx, "echo", "hi", &got); err != nil || got != "hi" {
		t.Fatalf("a new client's call after the attack: %q, %v", got, err)
	}
}
