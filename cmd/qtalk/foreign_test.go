package main_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// foreignServer listens on TCP and serves each connection with fn until
// the test ends; it returns the host:port.
func foreignServer(t *testing.T, fn func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fn(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// Every command that dials tells a server of another protocol in one line,
// with the exit status for a server that cannot be reached.
func TestNotQtalkServer(t *testing.T) {
	t.Parallel()
	// An SSH server greets first.
	ssh := foreignServer(t, func(c net.Conn) {
		io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		io.Copy(io.Discard, c)
	})
	// An HTTP server answers the first bytes it does not understand.
	http := foreignServer(t, func(c net.Conn) {
		c.Read(make([]byte, 1))
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
		io.Copy(io.Discard, c) // no reset that could drop the answer
	})
	// A TLS server (OpenSSL's, for one) answers what is not a handshake
	// with an alert: unexpected_message.
	tlsServer := foreignServer(t, func(c net.Conn) {
		c.Read(make([]byte, 1))
		io.WriteString(c, "\x15\x03\x03\x00\x02\x02\x0a")
		io.Copy(io.Discard, c)
	})
	for _, tc := range []struct {
		addr, like string
	}{
		{"tcp://" + ssh, "an SSH server"},
		{"tcp://" + http, "an HTTP server"},
		{"tcp://" + tlsServer, `a TLS server \(use tls:// or wss://\)`},
		{"tls://" + ssh + "?pin=sha256:" + strings.Repeat("00", 32), "an SSH server"},
	} {
		for _, args := range [][]string{
			{"call", tc.addr, "echo:echo", "1"},
			{"ls", tc.addr},
			{"ping", "--count", "1", tc.addr},
			{"check", tc.addr},
			{"bench", "--duration", "5s", tc.addr},
		} {
			r := qtalk(t, "", args...)
			r.want(t, 1, fmt.Sprintf("qtalk %q", args))
			want := `^qtalk: ` + regexp.QuoteMeta(tc.addr) + `: not a qtalk server: it answered like ` + tc.like + "\n$"
			if !regexp.MustCompile(want).MatchString(r.stderr) {
				t.Errorf("qtalk %q printed %q on stderr, want one line matching %q", args, r.stderr, want)
			}
		}
	}
}

// A ws:// or wss:// address whose server answers the WebSocket upgrade
// with another status, or in plain HTTP to wss://, or in another protocol,
// is told in the same one line.
func TestNotQtalkServerWebSocket(t *testing.T) {
	t.Parallel()
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	host := strings.TrimPrefix(web.URL, "http://")
	// Redis answers a line it does not understand, the upgrade request's
	// first.
	redis := foreignServer(t, func(c net.Conn) {
		c.Read(make([]byte, 1))
		io.WriteString(c, "-ERR unknown command 'GET'\r\n")
		io.Copy(io.Discard, c)
	})
	for _, tc := range []struct {
		addr, like string
	}{
		{"ws://" + host + "/qtalk", `the WebSocket upgrade with HTTP 404 Not Found \(no WebSocket at that path\?\)`},
		{"wss://" + host + "/qtalk?pin=sha256:" + strings.Repeat("00", 32), `like an HTTP server \(use ws://\)`},
		{"ws://" + redis + "/qtalk", "like a Redis server"},
	} {
		for _, args := range [][]string{
			{"call", tc.addr, "echo:echo", "1"},
			{"ls", tc.addr},
			{"ping", "--count", "1", tc.addr},
			{"check", tc.addr},
		} {
			r := qtalk(t, "", args...)
			r.want(t, 1, fmt.Sprintf("qtalk %q", args))
			want := `^qtalk: ` + regexp.QuoteMeta(tc.addr) + `: not a qtalk server: it answered ` + tc.like + "\n$"
			if !regexp.MustCompile(want).MatchString(r.stderr) {
				t.Errorf("qtalk %q printed %q on stderr, want one line matching %q", args, r.stderr, want)
			}
		}
	}
}

// A server that accepts the connection and never says anything (nor
// answers the WebSocket upgrade) fails every command that dials within
// its --timeout, or 10s without one, in one line with the exit status
// for a server that cannot be reached.
func TestSilentServer(t *testing.T) {
	t.Parallel()
	silent := foreignServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	for _, addr := range []string{"tcp://" + silent, "ws://" + silent + "/qtalk"} {
		for _, tc := range []struct {
			args  []string
			bound string
		}{
			{[]string{"call", "--timeout", "2s", addr, "echo:echo", "1"}, "2s"},
			{[]string{"call", addr, "echo:echo", "1"}, "10s"}, // the bound of connecting without --timeout
			{[]string{"ls", "--timeout", "2s", addr}, "2s"},
			{[]string{"ping", "--timeout", "2s", "--count", "1", addr}, "2s"},
			{[]string{"check", addr}, "10s"}, // its --timeout bounds each case
			{[]string{"describe", "--timeout", "2s", addr, "kv:get"}, "2s"},
		} {
			t.Run("", func(t *testing.T) {
				t.Parallel()
				args, bound := tc.args, tc.bound
				r := qtalk(t, "", args...)
				r.want(t, 1, fmt.Sprintf("qtalk %q", args))
				want := `^qtalk: cannot connect to ` + regexp.QuoteMeta(addr) + `: no answer within ` + bound + `: the server accepted the connection but said nothing \(not a qtalk server, or a hung one\)` + "\n$"
				if !regexp.MustCompile(want).MatchString(r.stderr) {
					t.Errorf("qtalk %q printed %q on stderr, want one line matching %q", args, r.stderr, want)
				}
			})
		}
	}
}
