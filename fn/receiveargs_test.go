package fn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// Tests of rpc.Call.ReceiveArgs, which fn's handlers are built on.

func TestReceiveArgs(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			var n int
			var s string
			if err := c.ReceiveArgs(&n, nil, &s); err != nil { // nil discards
				r.Error(err)
				return
			}
			r.Return(fmt.Sprint(n, s))
		}), rpc.WithCodec(codec))
		ctx := context.Background()
		var got string
		if _, err := cl.Call(ctx, "f", []any{1, map[string]int{"skipped": 1}, "a"}, &got); err != nil || got != "1a" {
			t.Fatalf("got %q, %v", got, err)
		}
		_, err := cl.Call(ctx, "f", []any{1, 2}, nil)
		wantCode(t, err, rpc.CodeInvalidArgument, "expects 3 arguments (int, discarded, string), got 2")
		_, err = cl.Call(ctx, "f", []any{1, 2, 3}, nil)
		wantCode(t, err, rpc.CodeInvalidArgument, "argument 2 (string)")
		_, err = cl.Call(ctx, "f", "a string", nil)
		wantCode(t, err, rpc.CodeInvalidArgument, "not a "+codec.Name()+" array")
	})
}

// After the arguments, ReceiveArgs decodes the values the client streams.
func TestReceiveArgsStream(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			if err := c.ReceiveArgs(); err != nil {
				r.Error(err)
				return
			}
			r.Continue(nil)
			for {
				var a, b int
				err := c.ReceiveArgs(&a, &b)
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					r.Send(err.Error())
					return
				}
				r.Send(fmt.Sprint(a + b))
			}
		}), rpc.WithCodec(codec))
		resp, err := cl.Call(context.Background(), "sums", []any{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		for _, pair := range [][]int{{1, 2}, {3, 4}} {
			if err := resp.Send(pair); err != nil {
				t.Fatal(err)
			}
			var got string
			if err := resp.Receive(&got); err != nil || got != fmt.Sprint(pair[0]+pair[1]) {
				t.Fatalf("got %q, %v", got, err)
			}
		}
		if err := resp.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if err := resp.Receive(nil); !errors.Is(err, io.EOF) {
			t.Fatalf("after CloseSend: %v, want io.EOF", err)
		}
	})
}

// A codec of its own can be an ArrayCodec.
func TestReceiveArgsCustomCodec(t *testing.T) {
	cl := serve(t, fn.MustHandlerFrom(func(a, b int) int { return a * b }), rpc.WithCodec(arrayCodec{}))
	got, err := fn.Call[int](context.Background(), cl, "mul", 6, 7)
	if err != nil || got != 42 {
		t.Fatalf("got %d, %v; want 42", got, err)
	}
	_, err = fn.Call[int](context.Background(), cl, "mul", 6, "seven")
	wantCode(t, err, rpc.CodeInvalidArgument, "argument 1 (int)")
}

func TestReceiveArgsNeedsArrayCodec(t *testing.T) {
	cl := serve(t, rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		r.Error(c.ReceiveArgs())
	}), rpc.WithCodec(plainCodec{}))
	_, err := cl.Call(context.Background(), "f", []any{}, nil)
	wantCode(t, err, rpc.CodeUnimplemented)
}

func TestSplitArray(t *testing.T) {
	for _, codec := range codecs {
		ac := codec.(rpc.ArrayCodec)
		data, err := codec.Append(nil, []any{1, "two", []int{3}, nil})
		if err != nil {
			t.Fatal(err)
		}
		elems, err := ac.SplitArray(data)
		if err != nil || len(elems) != 4 {
			t.Fatalf("%s: %d elements, %v", codec.Name(), len(elems), err)
		}
		var s string
		var xs []int
		if err := codec.Unmarshal(elems[1], &s); err != nil || s != "two" {
			t.Fatalf("%s: element 1: %q, %v", codec.Name(), s, err)
		}
		if err := codec.Unmarshal(elems[2], &xs); err != nil || len(xs) != 1 || xs[0] != 3 {
			t.Fatalf("%s: element 2: %v, %v", codec.Name(), xs, err)
		}
		null, _ := codec.Append(nil, nil)
		if elems, err := ac.SplitArray(null); err != nil || len(elems) != 0 {
			t.Fatalf("%s: null: %d elements, %v", codec.Name(), len(elems), err)
		}
		if _, err := ac.SplitArray(data[:len(data)-1]); err == nil {
			t.Fatalf("%s: a truncated array split", codec.Name())
		}
		if _, err := ac.SplitArray(append(data, data...)); err == nil {
			t.Fatalf("%s: trailing data accepted", codec.Name())
		}
	}
}
