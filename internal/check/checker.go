package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// DefaultTimeout bounds each case when Checker.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// ErrMismatch is matched by the errors of cases whose calls succeeded but
// returned something other than what the protocol says.
var ErrMismatch = errors.New("check: unexpected result")

// A Result is the outcome of one case: Err is nil if it passed.
type Result struct {
	Name    string
	Err     error
	Elapsed time.Duration
}

// A Checker runs the cases of the protocol against a server. The session
// it calls over must serve the checker's Handler, for the callback case.
// The zero value is ready to use.
type Checker struct {
	// Timeout bounds each case; zero means DefaultTimeout.
	Timeout time.Duration

	callbacks atomic.Int64 // calls to the Handler's check:echo
}

// Handler returns what the checking side must serve: check:echo, whose
// calls the callback case counts. It is a mux with the full selectors.
func (k *Checker) Handler() rpc.Handler {
	m := rpc.NewRespondMux()
	m.HandleFunc(Echo, func(r rpc.Responder, c *rpc.Call) {
		k.callbacks.Add(1)
		echo(r, c)
	})
	return m
}

// A testCase is one named check.
type testCase struct {
	name string
	run  func(ctx context.Context, k *Checker, clients clients) error
}

// clients call the server in each codec.
type clients struct{ cbor, json *rpc.Client }

// cases are the checks in the order Run runs them.
var cases = []testCase{
	{"unary cbor", func(ctx context.Context, k *Checker, c clients) error { return unary(ctx, c.cbor) }},
	{"unary json", func(ctx context.Context, k *Checker, c clients) error { return unary(ctx, c.json) }},
	{"metadata", checkMetadata},
	{"errors", checkErrors},
	{"bad selector", checkBadSelector},
	{"bad arguments", checkBadArguments},
	{"server stream", checkServerStream},
	{"client stream", checkClientStream},
	{"concurrent calls", checkConcurrent},
	{"bytes 1 B", bytesCase(1)},
	{"bytes 1 KiB", bytesCase(1 << 10)},
	{"bytes 1 MiB", bytesCase(1 << 20)},
	{"callback", checkCallback},
}

// Names returns the names of the cases in the order Run runs them.
func Names() []string {
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name
	}
	return names
}

// Run runs every case against the server client calls, in turn, calling
// report (if not nil) with each result, and returns the results. It stops
// early, without running the rest, once ctx is done. Calls in the JSON
// codec go over client's session with a client of their own.
func (k *Checker) Run(ctx context.Context, client *rpc.Client, report func(Result)) []Result {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cl := clients{
		cbor: rpc.NewClient(client.Session(), rpc.WithCodec(rpc.CBOR)),
		json: rpc.NewClient(client.Session(), rpc.WithCodec(rpc.JSON)),
	}
	var results []Result
	for _, tc := range cases {
		if ctx.Err() != nil {
			break
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		err := tc.run(cctx, k, cl)
		cancel()
		res := Result{Name: tc.name, Err: err, Elapsed: time.Since(start)}
		results = append(results, res)
		if report != nil {
			report(res)
		}
	}
	return results
}

// mismatch returns an error matching ErrMismatch.
func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMismatch}, args...)...)
}

// sample is the value the unary cases echo: a bit of every kind.
type sample struct {
	S     string         `json:"s"`
	N     int64          `json:"n"`
	F     float64        `json:"f"`
	B     bool           `json:"b"`
	Bytes []byte         `json:"bytes"`
	L     []string       `json:"l"`
	M     map[string]int `json:"m"`
	Nil   *int           `json:"nil"`
}

var theSample = sample{
	S:     "héllo, 世界 \"quoted\"\n",
	N:     -1 << 40,
	F:     0.125,
	B:     true,
	Bytes: []byte{0, 1, 2, 0xfe, 0xff},
	L:     []string{"a", "", "c"},
	M:     map[string]int{"one": 1, "two": 2},
}

func unary(ctx context.Context, c *rpc.Client) error {
	var got sample
	if _, err := c.Call(ctx, Echo, theSample, &got); err != nil {
		return err
	}
	if !reflect.DeepEqual(got, theSample) {
		return mismatch("%s echoed %+v, want %+v", Echo, got, theSample)
	}
	return nil
}

func checkMetadata(ctx context.Context, _ *Checker, c clients) error {
	md := rpc.Metadata{"k": "v", "x-check": "héllo world"}
	var got map[string]string
	if _, err := c.cbor.Call(ctx, Metadata, nil, &got, rpc.WithMetadata(md)); err != nil {
		return err
	}
	if !reflect.DeepEqual(rpc.Metadata(got), md) {
		return mismatch("%s replied %v, want %v", Metadata, got, md)
	}
	return nil
}

func checkErrors(ctx context.Context, _ *Checker, c clients) error {
	for _, code := range []rpc.Code{rpc.CodeInvalidArgument, rpc.CodeNotFound, rpc.CodeFailedPrecondition, rpc.CodeUnauthenticated} {
		msg := fmt.Sprintf("check failure %d", code)
		_, err := c.cbor.Call(ctx, Fail, Failure{Code: uint32(code), Message: msg}, nil)
		var e *rpc.Error
		switch {
		case err == nil:
			return mismatch("%s with code %s succeeded", Fail, code)
		case !errors.As(err, &e):
			return err
		case e.Code != code || e.Message != msg:
			return mismatch("%s: got %s %q, want %s %q", Fail, e.Code, e.Message, code, msg)
		}
	}
	return nil
}

func checkBadSelector(ctx context.Context, _ *Checker, c clients) error {
	_, err := c.cbor.Call(ctx, Prefix+"no-such-selector", nil, nil)
	if got := rpc.CodeOf(err); got != rpc.CodeNotFound {
		return mismatch("an unknown selector failed with %s (%v), want not_found", got, err)
	}
	return nil
}

func checkBadArguments(ctx context.Context, _ *Checker, c clients) error {
	_, err := c.cbor.Call(ctx, Stream, "not a count", nil)
	if got := rpc.CodeOf(err); got != rpc.CodeInvalidArgument {
		return mismatch("%s with a string failed with %s (%v), want invalid_argument", Stream, got, err)
	}
	return nil
}

func checkServerStream(ctx context.Context, _ *Checker, c clients) error {
	const n = 100
	resp, err := c.cbor.Call(ctx, Stream, n, nil)
	if err != nil {
		return err
	}
	if !resp.Continue {
		return mismatch("%s did not continue the call", Stream)
	}
	defer resp.Close()
	for i := 0; ; i++ {
		var v int
		err := resp.Receive(&v)
		switch {
		case errors.Is(err, io.EOF) && i == n:
			return nil
		case errors.Is(err, io.EOF):
			return mismatch("%s ended after %d values, want %d", Stream, i, n)
		case err != nil:
			return err
		case v != i || i >= n:
			return mismatch("%s value %d is %d", Stream, i, v)
		}
	}
}

func checkClientStream(ctx context.Context, _ *Checker, c clients) error {
	resp, err := c.cbor.Call(ctx, Sum, nil, nil)
	if err != nil {
		return err
	}
	if !resp.Continue {
		return mismatch("%s did not continue the call", Sum)
	}
	defer resp.Close()
	const n = 100
	for i := 1; i <= n; i++ {
		if err := resp.Send(i); err != nil {
			return err
		}
	}
	if err := resp.CloseSend(); err != nil {
		return err
	}
	var total int64
	if err := resp.Receive(&total); err != nil {
		return err
	}
	if want := int64(n * (n + 1) / 2); total != want {
		return mismatch("%s of 1..%d is %d, want %d", Sum, n, total, want)
	}
	if err := resp.Receive(nil); !errors.Is(err, io.EOF) {
		return mismatch("after the sum, %s sent %v, want the end of the stream", Sum, err)
	}
	return nil
}

func checkConcurrent(ctx context.Context, _ *Checker, c clients) error {
	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var got int
			if _, err := c.cbor.Call(ctx, Echo, i, &got); err != nil {
				errs[i] = err
			} else if got != i {
				errs[i] = mismatch("concurrent %s of %d returned %d", Echo, i, got)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// bytesCase returns a case that sends size bytes through check:bytes and
// expects them back.
func bytesCase(size int) func(context.Context, *Checker, clients) error {
	return func(ctx context.Context, _ *Checker, c clients) error {
		resp, err := c.cbor.Call(ctx, Bytes, size, nil)
		if err != nil {
			return err
		}
		if !resp.Continue {
			return mismatch("%s did not continue the call", Bytes)
		}
		defer resp.Close()
		data := pattern(size)
		conn := resp.Conn()
		werr := make(chan error, 1)
		go func() {
			_, err := conn.Write(data)
			if err == nil {
				err = conn.CloseWrite()
			}
			werr <- err
		}()
		got, err := io.ReadAll(conn)
		if err != nil {
			resp.Close() // unblocks the write
		}
		if err := errors.Join(err, <-werr); err != nil {
			return err
		}
		if !bytes.Equal(got, data) {
			return mismatch("%s returned %d bytes, want the %d sent%s", Bytes, len(got), len(data), firstDiff(got, data))
		}
		return nil
	}
}

// pattern returns n bytes that are not all alike, so that reordered or
// shifted data differs.
func pattern(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// firstDiff describes where got and want first differ.
func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf(", first difference at byte %d", i)
		}
	}
	return ""
}

func checkCallback(ctx context.Context, k *Checker, c clients) error {
	before := k.callbacks.Load()
	const token = "callback token"
	var got string
	if _, err := c.cbor.Call(ctx, Callback, token, &got); err != nil {
		return err
	}
	if got != token {
		return mismatch("%s replied %q, want %q", Callback, got, token)
	}
	if n := k.callbacks.Load() - before; n != 1 {
		return mismatch("%s called back %s %d times, want once", Callback, Echo, n)
	}
	return nil
}
