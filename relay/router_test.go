package relay_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/relay"
	"github.com/qtalkkit/qtalk/transport"
)

// echoAddr serves echoHash on tcp and returns its address.
func echoAddr(t *testing.T) string {
	return targets[0].start(t, func(*transport.Options) {})
}

func dialErr(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	conn, err := relay.Dial(ctx, addr, nil)
	if err == nil {
		conn.Close()
	}
	return err
}

// TestRouterSubports routes the subports of one listener to their
// targets and refuses an unknown one with a reason.
func TestRouterSubports(t *testing.T) {
	r := newRouter(t, nil)
	update(t, r,
		relay.Route{Name: "a", From: "tcp://127.0.0.1:0!a", To: echoAddr(t)},
		relay.Route{Name: "b", From: "tcp://127.0.0.1:0!b", To: serveLabel(t) + "!echo:raw"},
	)
	host := r.Addr("tcp://127.0.0.1:0!a").String()
	if got := r.Addr("tcp://127.0.0.1:0!b").String(); got != host {
		t.Fatalf("routes a and b listen on %s and %s, want one listener", host, got)
	}
	for _, sub := range []string{"a", "b"} {
		roundTrip(t, dial(t, "tcp://"+host+"!"+sub), 64<<10, true)
	}
	err := dialErr("tcp://" + host + "!nope")
	var re *relay.RefusedError
	if !errors.Is(err, relay.ErrRefused) || !errors.As(err, &re) || re.Subport != "nope" || !strings.Contains(re.Reason, `unknown subport "nope"`) {
		t.Fatalf("dial of an unknown subport: %v, want a *RefusedError naming it", err)
	}
}

// TestRouterBadPreamble closes a connection whose first bytes are not a
// preamble, and one that sends nothing within the handshake timeout.
func TestRouterBadPreamble(t *testing.T) {
	r := newRouter(t, &relay.Config{HandshakeTimeout: 100 * time.Millisecond})
	update(t, r, relay.Route{Name: "a", From: "tcp://127.0.0.1:0!a", To: echoAddr(t)})
	addr := r.Addr("tcp://127.0.0.1:0!a").String()
	for _, first := range []string{"GET / HTTP/1.1\r\n\r\n", "qtp\x01\x00", "qtp\x01\x03a b", ""} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(first))
		conn.SetReadDeadline(time.Now().Add(testTimeout))
		// The end may be a reset: the listener closes with the rest unread.
		n, err := io.Copy(io.Discard, conn)
		if ne := net.Error(nil); n != 0 || errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("after %q: read %d bytes, %v; want the connection closed without an answer", first, n, err)
		}
		conn.Close()
	}
}

// TestRouterReload replaces the routes under an established pipe, which
// goes on, while new connections follow the new routes.
func TestRouterReload(t *testing.T) {
	r := newRouter(t, nil)
	from := "tcp://127.0.0.1:0!a"
	update(t, r, relay.Route{Name: "a", From: from, To: echoAddr(t)})
	addr := "tcp://" + r.Addr(from).String()
	old := dial(t, addr+"!a")

	// a moves to another target and b is new, on the same listener.
	update(t, r,
		relay.Route{Name: "a", From: from, To: serveLabel(t) + "!echo:raw"},
		relay.Route{Name: "b", From: "tcp://127.0.0.1:0!b", To: echoAddr(t)},
	)
	roundTrip(t, dial(t, addr+"!b"), 1<<10, true)
	roundTrip(t, dial(t, addr+"!a"), 1<<10, true)

	// Without routes the listener closes, and the old pipe still works.
	update(t, r)
	if r.Addr(from) != nil {
		t.Error("the listener of no route is still open")
	}
	if err := dialErr(addr + "!a"); err == nil {
		t.Error("dial after the last route went: no error")
	}
	roundTrip(t, old, 64<<10, true)
}

// TestRouterLimit refuses a connection beyond a route's MaxConns with a
// reason, and takes it again once a pipe ended.
func TestRouterLimit(t *testing.T) {
	ended := make(chan error, 2)
	r := newRouter(t, nil, relay.WithPipeEnded(func(_ relay.Route, err error) { ended <- err }))
	from := "tcp://127.0.0.1:0!a"
	update(t, r, relay.Route{Name: "a", From: from, To: echoAddr(t), MaxConns: 1})
	addr := "tcp://" + r.Addr(from).String() + "!a"
	first := dial(t, addr)
	err := dialErr(addr)
	if !errors.Is(err, relay.ErrRefused) || !strings.Contains(err.Error(), "limit of 1") {
		t.Fatalf("second dial: %v, want refused at the limit", err)
	}
	roundTrip(t, first, 1<<10, true)
	<-ended
	roundTrip(t, dial(t, addr), 1<<10, true)
}

// TestRouterLimitFreedBeforeEnded dials a route at its limit from the
// WithPipeEnded callback of its one pipe: the slot is free by then.
func TestRouterLimitFreedBeforeEnded(t *testing.T) {
	var once sync.Once
	redialed := make(chan error, 1)
	var addr string
	r := newRouter(t, nil, relay.WithPipeEnded(func(relay.Route, error) {
		once.Do(func() { redialed <- dialErr(addr) })
	}))
	from := "tcp://127.0.0.1:0!a"
	update(t, r, relay.Route{Name: "a", From: from, To: echoAddr(t), MaxConns: 1})
	addr = "tcp://" + r.Addr(from).String() + "!a"
	roundTrip(t, dial(t, addr), 1<<10, true)
	select {
	case err := <-redialed:
		if err != nil {
			t.Fatalf("dial from the ended pipe's callback: %v, want its slot free", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the pipe's end was not reported")
	}
}

// TestRouterIdle ends a route's pipe that stays idle for its
// IdleTimeout.
func TestRouterIdle(t *testing.T) {
	ended := make(chan error, 1)
	r := newRouter(t, nil, relay.WithPipeEnded(func(_ relay.Route, err error) { ended <- err }))
	update(t, r, relay.Route{Name: "a", From: "tcp://127.0.0.1:0", To: echoAddr(t), IdleTimeout: 50 * time.Millisecond})
	conn := dial(t, "tcp://"+r.Addr("tcp://127.0.0.1:0").String())
	defer conn.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, relay.ErrIdle) {
			t.Fatalf("pipe ended with %v, want ErrIdle", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the idle pipe did not end")
	}
	if n, err := io.Copy(io.Discard, conn); n != 0 || err != nil {
		t.Errorf("read %d bytes, %v from the idle pipe; want its end", n, err)
	}
}

// TestRouterUnreachable refuses a subport whose target cannot be reached,
// saying so.
func TestRouterUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + ln.Addr().String()
	ln.Close()
	r := newRouter(t, nil)
	update(t, r, relay.Route{Name: "a", From: "tcp://127.0.0.1:0!a", To: dead})
	err = dialErr("tcp://" + r.Addr("tcp://127.0.0.1:0!a").String() + "!a")
	if !errors.Is(err, relay.ErrRefused) || !strings.Contains(err.Error(), "cannot reach its target") {
		t.Fatalf("dial: %v, want refused as unreachable", err)
	}
}

// TestRouterBadRoutes refuses routes that cannot be served together, and
// keeps the routes it had.
func TestRouterBadRoutes(t *testing.T) {
	r := newRouter(t, nil)
	update(t, r, relay.Route{Name: "a", From: "tcp://127.0.0.1:0!a", To: "tcp://127.0.0.1:1"})
	for _, routes := range [][]relay.Route{
		{{Name: "x", From: "tcp://127.0.0.1:0", To: "tcp://127.0.0.1:1"}, {Name: "y", From: "tcp://127.0.0.1:0!s", To: "tcp://127.0.0.1:1"}},
		{{Name: "x", From: "tcp://127.0.0.1:0!s", To: "tcp://127.0.0.1:1"}, {Name: "y", From: "tcp://127.0.0.1:0!s", To: "tcp://127.0.0.1:1"}},
		{{Name: "x", From: "tcp://127.0.0.1", To: "tcp://127.0.0.1:1"}},
		{{Name: "x", From: "tcp://127.0.0.1:0", To: "nope:"}},
		{{Name: "x", From: "tcp://127.0.0.1:0", To: "tcp://127.0.0.1:1", MaxConns: -1}},
	} {
		if err := r.Update(context.Background(), routes); !errors.Is(err, relay.ErrBadRoute) {
			t.Errorf("Update(%v) = %v, want ErrBadRoute", routes, err)
		}
	}
	if r.Addr("tcp://127.0.0.1:0!a") == nil {
		t.Error("a bad update closed the listener of route a")
	}
}
