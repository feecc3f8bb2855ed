package fn_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

func TestMain(m *testing.M) {
	rpc.RegisterCodec(plainCodec{})
	rpc.RegisterCodec(arrayCodec{})
	goleak.VerifyTestMain(m)
}

// plainCodec is JSON without SplitArray: not an rpc.ArrayCodec.
type plainCodec struct{}

func (plainCodec) Name() string                           { return "fntest-plain" }
func (plainCodec) Append(b []byte, v any) ([]byte, error) { return rpc.JSON.Append(b, v) }
func (plainCodec) Unmarshal(data []byte, v any) error     { return rpc.JSON.Unmarshal(data, v) }

// arrayCodec is JSON as a codec of its own that is an rpc.ArrayCodec.
type arrayCodec struct{ plainCodec }

func (arrayCodec) Name() string { return "fntest-array" }

func (arrayCodec) Unmarshal(data []byte, v any) error {
	if u, ok := v.(rpc.RawUnmarshaler); ok {
		return u.UnmarshalRaw(data)
	}
	return rpc.JSON.Unmarshal(data, v)
}

func (arrayCodec) SplitArray(data []byte) ([][]byte, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, err
	}
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out, nil
}

var codecs = []rpc.Codec{rpc.CBOR, rpc.JSON, rpc.Msgpack}

// forCodecs runs f as a subtest per built-in codec.
func forCodecs(t *testing.T, f func(t *testing.T, codec rpc.Codec)) {
	for _, codec := range codecs {
		t.Run(codec.Name(), func(t *testing.T) { f(t, codec) })
	}
}

// serve starts a server with h on one end of an in-memory session pair and
// returns a client for the other end.
func serve(t testing.TB, h rpc.Handler, opts ...rpc.ClientOption) *rpc.Client {
	t.Helper()
	c1, c2 := pipe.New()
	cs, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &rpc.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(ss)
	}()
	t.Cleanup(func() {
		cs.Close()
		ss.Close()
		<-done
		srv.Shutdown(context.Background())
		cs.Wait()
		ss.Wait()
	})
	return rpc.NewClient(cs, opts...)
}

// serveTCP serves h on a loopback TCP listener and returns a client dialed
// to it.
func serveTCP(t testing.TB, h rpc.Handler, opts ...rpc.ClientOption) *rpc.Client {
	t.Helper()
	ctx := context.Background()
	ln, err := transport.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &rpc.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	sess, err := transport.Dial(ctx, "tcp://"+ln.Addr().String())
	if err != nil {
		srv.Shutdown(ctx)
		<-served
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sess.Close()
		sess.Wait()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-served; !errors.Is(err, rpc.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return rpc.NewClient(sess, opts...)
}

// wantCode fails t unless err is an *rpc.Error with code whose message
// contains each of parts.
func wantCode(t testing.TB, err error, code rpc.Code, parts ...string) {
	t.Helper()
	var rerr *rpc.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("got %v (%T), want an *rpc.Error with code %v", err, err, code)
	}
	if rerr.Code != code || rpc.CodeOf(err) != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
	for _, p := range parts {
		if !strings.Contains(rerr.Message, p) {
			t.Fatalf("message %q does not contain %q", rerr.Message, p)
		}
	}
}
