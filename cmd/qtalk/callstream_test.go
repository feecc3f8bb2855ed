package main_test

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// With --stream, each line of stdin is a value of the client's stream,
// and the end of stdin ends it.
func TestCallStreamStdin(t *testing.T) {
	t.Parallel()
	s := serve(t)
	var lines strings.Builder
	for i := 1; i <= 100; i++ {
		lines.WriteString(strings.Repeat(" ", i%3) + "\n" + strconv.Itoa(i) + "\n")
	}
	for _, addr := range []string{s.tcp, s.ws} {
		for _, codec := range []string{"json", "cbor"} {
			r := qtalk(t, lines.String(), "call", "--stream", "--codec", codec, addr, "check:sum", "null")
			r.want(t, 0, "call --stream check:sum")
			if r.stdout != "5050\n" {
				t.Errorf("--stream --codec %s of 1..100 to check:sum over %s printed %q, want 5050", codec, addr, r.stdout)
			}
		}
	}
	// Nothing on stdin: an empty stream.
	r := qtalk(t, "", "call", "--stream", s.tcp, "check:sum", "null")
	r.want(t, 0, "call --stream with empty stdin")
	if r.stdout != "0\n" {
		t.Errorf("--stream of nothing printed %q, want 0", r.stdout)
	}
	// A line that is not JSON ends the call as a bad command line.
	r = qtalk(t, "1\n2\n{oops\n3\n", "call", "--stream", s.tcp, "check:sum", "null")
	r.want(t, 2, "call --stream with a bad line")
	if !regexp.MustCompile(`^qtalk: call: --stream: line 3 of stdin is not valid JSON: .*\n$`).MatchString(r.stderr) {
		t.Errorf("stderr %q, want the bad line named", r.stderr)
	}
	// A value the server rejects fails the call with its code.
	r = qtalk(t, "1\n\"two\"\n", "call", "--stream", s.tcp, "check:sum", "null")
	r.want(t, 13, "call --stream with a string")
	for _, args := range [][]string{
		{"call", "--stream", "--raw", s.tcp, "check:sum", "null"},
		{"call", "--stream", s.tcp, "check:sum", "-"},
	} {
		qtalk(t, "", args...).want(t, 2, strings.Join(args, " "))
	}
}

// Waiting for a reply is bounded by --unary-timeout, 30s by default: a
// server that never answers fails the call with deadline_exceeded.
func TestCallUnaryTimeout(t *testing.T) {
	t.Parallel()
	// A server that answers qtalk:ping (so the command connects) but
	// never replies to a call.
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := talk.Listen(ctx, "tcp://127.0.0.1:0", talk.WithHandler(rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { <-c.Context().Done() })))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		ln.Serve(ctx, nil)
	}()
	defer func() {
		cancel()
		<-served
	}()
	r := qtalk(t, "", "call", "--unary-timeout", "1s", "tcp://"+ln.Addr().String(), "echo:echo", "1")
	r.want(t, 14, "call of a server that does not reply")
	if want := "qtalk: call echo:echo: deadline_exceeded: no reply within the --unary-timeout of 1s\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	// The bound ends with the reply: a stream runs on.
	s := serve(t)
	start := time.Now()
	sub := startStream(t, "call", "--unary-timeout", "1s", "--timeout", "30s", s.tcp, "chat:subscribe", `["tester"]`)
	if got, want := sub.next(t), `{"type":"joined","user":"tester"}`; got != want {
		t.Fatalf("first event %s, want %s", got, want)
	}
	r = qtalk(t, "", "call", "--unary-timeout", "0", s.tcp, "check:stream", "3")
	r.want(t, 0, "call --unary-timeout 0")
	// Past the unary timeout (the behaviour under test, not a race), the
	// stream still delivers.
	<-time.After(time.Until(start.Add(1500 * time.Millisecond)))
	qtalk(t, "", "call", s.ws, "chat:send", `["alice", "later"]`).want(t, 0, "chat:send")
	if got := sub.next(t); !strings.Contains(got, `"later"`) {
		t.Fatalf("event %s, want alice's message", got)
	}
}

// A label that continues as a raw channel, called without --raw, fails
// with a hint to use it.
func TestCallRawHint(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := talk.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- ln.Serve(ctx, func(p *talk.Peer) {
			p.HandleFunc("raw:hello", func(r rpc.Responder, c *rpc.Call) {
				if r.Continue(nil) != nil {
					return
				}
				conn := r.Conn()
				io.WriteString(conn, "hello, raw world\n")
				conn.CloseWrite()
				io.Copy(io.Discard, conn)
			})
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	addr := "tcp://" + ln.Addr().String()
	r := qtalk(t, "", "call", addr, "raw:hello")
	if r.code == 0 || !regexp.MustCompile(`^qtalk: call raw:hello: \w+: .*; if raw:hello is a raw channel, call it with --raw\n$`).MatchString(r.stderr) {
		t.Errorf("call of a raw channel without --raw: %v\nwant a hint to use --raw", r)
	}
	r = qtalk(t, "", "call", "--raw", addr, "raw:hello")
	r.want(t, 0, "call --raw")
	if r.stdout != "hello, raw world\n" {
		t.Errorf("call --raw printed %q", r.stdout)
	}
}
