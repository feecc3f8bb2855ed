package fn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"reflect"

	"github.com/qtalkkit/qtalk/rpc"
)

// noArgs is sent for a call without arguments: an empty array, not null.
var noArgs = []any{}

// Call calls the func served at selector with args and decodes its result
// into a T. Use Invoke for funcs without results and CallInto for funcs
// with several. Errors the func returned are *rpc.Error values; calling a
// func that returns a channel fails with an error matching ErrStream.
func Call[T any](ctx context.Context, c *rpc.Client, selector string, args ...any) (T, error) {
	var v T
	err := call(ctx, c, selector, args, &v)
	return v, err
}

// Invoke calls the func served at selector with args and discards its
// results, if any.
func Invoke(ctx context.Context, c *rpc.Client, selector string, args ...any) error {
	return call(ctx, c, selector, args, nil)
}

// CallInto calls the func served at selector with args and decodes its
// results into the pointers results, which must match the func's results
// in number (the error excluded) and type. With no pointer the results are
// discarded; with one, the single result is decoded into it; with several,
// the array of results is decoded element by element, which needs a codec
// that is an rpc.ArrayCodec (every built-in codec is).
func CallInto(ctx context.Context, c *rpc.Client, selector string, args []any, results ...any) error {
	var reply any
	switch len(results) {
	case 0:
	case 1:
		reply = results[0]
	default:
		reply = &resultArray{codec: c.Codec(), ptrs: results}
	}
	return call(ctx, c, selector, args, reply)
}

func call(ctx context.Context, c *rpc.Client, selector string, args []any, reply any) error {
	if args == nil {
		args = noArgs
	}
	resp, err := c.Call(ctx, selector, args, reply)
	if err != nil {
		return err
	}
	if resp.Continue {
		resp.Close()
		return fmt.Errorf("fn: call %q: %w", selector, ErrStream)
	}
	return nil
}

// Stream calls the func served at selector with args, which returns a
// channel, and yields the values it sends until the channel is closed.
// Each range over the sequence makes the call anew. An error ends the
// sequence: the call's, an error matching ErrNotStream if the func did not
// return a channel, or ctx's (as an *rpc.Error) if it ended. Breaking out
// of the loop ends the call, which cancels the context of the func.
func Stream[T any](ctx context.Context, c *rpc.Client, selector string, args ...any) iter.Seq2[T, error] {
	if args == nil {
		args = noArgs
	}
	return func(yield func(T, error) bool) {
		var zero T
		resp, err := c.Call(ctx, selector, args, nil)
		if err != nil {
			yield(zero, err)
			return
		}
		defer resp.Close()
		if !resp.Continue {
			yield(zero, fmt.Errorf("fn: stream %q: %w", selector, ErrNotStream))
			return
		}
		for {
			var v T
			err := resp.Receive(&v)
			switch {
			case errors.Is(err, io.EOF):
				return
			case err != nil && ctx.Err() != nil:
				yield(zero, rpc.NewError(rpc.CodeOf(ctx.Err()), fmt.Errorf("fn: stream %q: %w", selector, ctx.Err())))
				return
			case err != nil:
				yield(zero, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// resultArray decodes an array of results element by element into its
// pointers, with the codec of the call.
type resultArray struct {
	codec rpc.Codec
	ptrs  []any
}

func (r *resultArray) UnmarshalRaw(data []byte) error { return r.decode(r.codec, data) }

func (r *resultArray) decode(c rpc.Codec, data []byte) error {
	ac, ok := c.(rpc.ArrayCodec)
	if !ok {
		return fmt.Errorf("fn: codec %q cannot decode result arrays", c.Name())
	}
	elems, err := ac.SplitArray(data)
	if err != nil {
		return fmt.Errorf("fn: results are not a %s array: %w", c.Name(), err)
	}
	if len(elems) != len(r.ptrs) {
		return fmt.Errorf("fn: want %d results, got %d", len(r.ptrs), len(elems))
	}
	for i, e := range elems {
		p := r.ptrs[i]
		if err := c.Unmarshal(e, p); err != nil {
			t := reflect.TypeOf(p)
			if t != nil && t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			return fmt.Errorf("fn: result %d (%v): %w", i, t, err)
		}
	}
	return nil
}
