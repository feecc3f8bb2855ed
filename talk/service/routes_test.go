package service_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/relay"
	"github.com/qtalkkit/qtalk/talk/config"
)

// rawEcho serves raw TCP connections that get back what they send, up to
// their half-close, and returns its address.
func rawEcho(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// echoThrough sends text through an open pipe to rawEcho, half-closes it
// and expects text back and the end.
func echoThrough(t *testing.T, conn io.ReadWriteCloser, text string) {
	t.Helper()
	defer conn.Close()
	if _, err := conn.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	conn.(interface{ CloseWrite() error }).CloseWrite()
	if got, err := io.ReadAll(conn); string(got) != text || err != nil {
		t.Fatalf("read %q, %v; want %q", got, err, text)
	}
}

// TestRoutes serves the [routes] of the config, and a reload changes
// them without cutting a pipe in progress.
func TestRoutes(t *testing.T) {
	echo := rawEcho(t)
	const from = "tcp://127.0.0.1:0"
	routes := func(subports ...string) string {
		var b strings.Builder
		b.WriteString("listen = \"tcp://127.0.0.1:0\"\n[routes]\n")
		for _, s := range subports {
			fmt.Fprintf(&b, "%s = { from = %q, to = %q, max_conns = 2 }\n", s, from+"!"+s, echo)
		}
		return b.String()
	}
	srv, _ := startServer(t, routes("a"))
	addr := "tcp://" + srv.RouteAddr(from+"!a").String()
	pipeDial := func(sub string) (io.ReadWriteCloser, error) {
		return relay.Dial(testCtx(t), addr+"!"+sub, nil)
	}
	old, err := pipeDial("a")
	if err != nil {
		t.Fatal(err)
	}

	reload := func(text string) error {
		cfg, err := config.Parse([]byte(text), "q.toml")
		if err != nil {
			t.Fatal(err)
		}
		return srv.Reload(cfg)
	}
	if err := reload(routes("b")); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeDial("a"); !errors.Is(err, relay.ErrRefused) || !strings.Contains(err.Error(), `unknown subport "a"`) {
		t.Fatalf("dial of the route removed: %v, want refused", err)
	}
	b, err := pipeDial("b")
	if err != nil {
		t.Fatal(err)
	}
	echoThrough(t, b, "to b")
	echoThrough(t, old, "still there")

	// Conflicting routes are refused and change nothing.
	bad := routes("b") + fmt.Sprintf("c = { from = %q, to = %q }\n", from, echo)
	var ce *config.Error
	if err := reload(bad); !errors.As(err, &ce) || !errors.Is(err, relay.ErrBadRoute) {
		t.Fatalf("reload of conflicting routes: %v, want a *config.Error matching relay.ErrBadRoute", err)
	}
	b, err = pipeDial("b")
	if err != nil {
		t.Fatal(err)
	}
	echoThrough(t, b, "b again")
}
