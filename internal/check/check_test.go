package check_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/internal/check"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// run runs a Checker against a peer serving server and returns the names
// of the cases that failed.
func run(t *testing.T, server rpc.Handler) (failed []string) {
	t.Helper()
	root := rpc.NewRespondMux()
	root.Handle(check.Prefix, server)
	var k check.Checker
	k.Timeout = 5 * time.Second
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := talk.NewPeer(sess1, talk.WithHandler(root))
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := talk.NewPeer(sess2, talk.WithHandler(k.Handler()))
	defer srv.Close()
	defer cli.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var reported []check.Result
	results := k.Run(ctx, cli.Client(), func(r check.Result) { reported = append(reported, r) })
	if len(results) != len(check.Names()) || len(reported) != len(results) {
		t.Fatalf("got %d results and %d reports, want %d of each", len(results), len(reported), len(check.Names()))
	}
	for i, r := range results {
		if r.Name != check.Names()[i] {
			t.Errorf("result %d is %q, want %q", i, r.Name, check.Names()[i])
		}
		if r.Err != nil {
			t.Logf("%s: %v", r.Name, r.Err)
			failed = append(failed, r.Name)
		}
	}
	return failed
}

// The protocol's own handler passes every case.
func TestHandlerPasses(t *testing.T) {
	if failed := run(t, check.Handler()); len(failed) > 0 {
		t.Errorf("failed cases: %q", failed)
	}
}

// A server that breaks the protocol fails the cases that check what it
// breaks, and only those.
func TestBrokenServerFails(t *testing.T) {
	m := check.Handler()
	m.Remove("echo")
	m.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) { r.Return("not what you sent") })
	m.Remove("fail")
	m.HandleFunc("fail", func(r rpc.Responder, c *rpc.Call) { r.Error(rpc.Errorf(rpc.CodeInternal, "always internal")) })
	m.Remove("bytes")
	m.HandleFunc("bytes", func(r rpc.Responder, c *rpc.Call) { // drops the last byte
		r.Continue(nil)
		conn := r.Conn()
		data, _ := io.ReadAll(conn)
		conn.Write(data[:len(data)-1])
		conn.CloseWrite()
	})
	m.Remove("stream")
	m.HandleFunc("stream", func(r rpc.Responder, c *rpc.Call) { r.Return(nil) }) // takes anything, streams nothing

	failed := run(t, m)
	want := []string{"unary cbor", "unary json", "errors", "bad arguments", "server stream", "concurrent calls", "bytes 1 B", "bytes 1 KiB", "bytes 1 MiB"}
	if !slices.Equal(failed, want) {
		t.Errorf("failed cases %q, want %q", failed, want)
	}
}

// Run stops once its context is done.
func TestRunStops(t *testing.T) {
	c1, c2 := pipe.New()
	root := rpc.NewRespondMux()
	root.Handle(check.Prefix, check.Handler())
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := talk.NewPeer(sess1, talk.WithHandler(root))
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := talk.NewPeer(sess2)
	defer srv.Close()
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var k check.Checker
	results := k.Run(ctx, cli.Client(), func(r check.Result) { cancel() })
	if len(results) != 1 {
		t.Errorf("after a cancel in the first report, got %d results, want 1", len(results))
	}
}

// The errors of cases that got a wrong answer match ErrMismatch.
func TestMismatchError(t *testing.T) {
	m := check.Handler()
	m.Remove("echo")
	m.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) { r.Return(42) })
	root := rpc.NewRespondMux()
	root.Handle(check.Prefix, m)
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := talk.NewPeer(sess1, talk.WithHandler(root))
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := talk.NewPeer(sess2)
	defer srv.Close()
	defer cli.Close()
	var k check.Checker
	results := k.Run(context.Background(), cli.Client(), nil)
	// "concurrent calls" echoes the integers 0..31 and gets 42 back; the
	// unary cases get an integer for a struct, which fails to decode
	// instead.
	for _, r := range results {
		if r.Name == "concurrent calls" && !errors.Is(r.Err, check.ErrMismatch) {
			t.Errorf("concurrent calls: %v, want an error matching ErrMismatch", r.Err)
		}
	}
}

// check:callback called in JSON and in msgpack with a map: the callback
// runs in the peer's CBOR, and the map it brings back (a map[any]any)
// is answered in the call's codec.
func TestCallbackAcrossCodecs(t *testing.T) {
	root := rpc.NewRespondMux()
	root.Handle(check.Prefix, check.Handler())
	var k check.Checker
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := talk.NewPeer(sess1, talk.WithHandler(root))
	defer srv.Close()
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := talk.NewPeer(sess2, talk.WithHandler(k.Handler()))
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, codec := range []rpc.Codec{rpc.JSON, rpc.Msgpack} {
		c := rpc.NewClient(cli.Session(), rpc.WithCodec(codec))
		var got map[string]any
		if _, err := c.Call(ctx, check.Callback, map[string]any{"a": "b", "n": []any{"x"}}, &got); err != nil {
			t.Errorf("%s: %v", codec.Name(), err)
			continue
		}
		if got["a"] != "b" || len(got) != 2 {
			t.Errorf("%s: got %v", codec.Name(), got)
		}
	}
}
