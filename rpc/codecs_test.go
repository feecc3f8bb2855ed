package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/qtalkkit/qtalk/rpc"
)

// genericCodecs are the codecs that encode and decode any Go value.
var genericCodecs = []rpc.Codec{rpc.CBOR, rpc.JSON, rpc.Msgpack}

// A generic value decoded by one codec (maps with integer keys decode into
// map[any]any from CBOR and msgpack) encodes in every other, and decodes
// there into the same JSON-shaped value.
func TestGenericValuesCrossCodecs(t *testing.T) {
	source := map[any]any{
		"name":   "ada",
		"n":      uint64(7),
		"list":   []any{"a", int64(-2), true, nil, 1.5},
		"nested": map[any]any{int64(1): "one", "two": map[any]any{uint64(3): false}},
	}
	// What every value must read as after a trip through JSON.
	want := map[string]any{
		"name":   "ada",
		"n":      7.0,
		"list":   []any{"a", -2.0, true, nil, 1.5},
		"nested": map[string]any{"1": "one", "two": map[string]any{"3": false}},
	}
	for _, from := range genericCodecs {
		data, err := from.Append(nil, source)
		if err != nil {
			t.Fatalf("%s: encode: %v", from.Name(), err)
		}
		var decoded any
		if err := from.Unmarshal(data, &decoded); err != nil {
			t.Fatalf("%s: decode: %v", from.Name(), err)
		}
		for _, to := range genericCodecs {
			t.Run(from.Name()+"-to-"+to.Name(), func(t *testing.T) {
				data, err := to.Append(nil, decoded)
				if err != nil {
					t.Fatalf("encode %T in %s: %v", decoded, to.Name(), err)
				}
				var again any
				if err := to.Unmarshal(data, &again); err != nil {
					t.Fatalf("decode %s: %v", to.Name(), err)
				}
				js, err := rpc.JSON.Append(nil, again)
				if err != nil {
					t.Fatalf("encode %T in json: %v", again, err)
				}
				var got any
				json.Unmarshal(js, &got)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %#v\nwant %#v", got, want)
				}
			})
		}
	}
}

// Map keys that collide as JSON object keys, or have no JSON form, fail
// to encode in JSON instead of losing a value.
func TestJSONGenericKeys(t *testing.T) {
	for _, v := range []any{
		map[any]any{int64(1): "a", "1": "b"},
		map[any]any{[2]int{1, 2}: "a"},
	} {
		if _, err := rpc.JSON.Append(nil, v); err == nil {
			t.Errorf("JSON encoded %#v", v)
		}
	}
}

type tagged struct {
	X, Y  int
	Label string `json:"label"`
}

// Calls in msgpack and protobuf: typed values, generic values, arrays of
// arguments (ReceiveArgs) and streams.
func TestMsgpackAndProtobufCalls(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		m := rpc.NewRespondMux()
		m.HandleFunc("move", func(r rpc.Responder, c *rpc.Call) {
			var p tagged
			var dx int
			if err := c.ReceiveArgs(&p, &dx); err != nil {
				r.Error(err)
				return
			}
			p.X += dx
			r.Return(p)
		})
		m.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) {
			var v any
			if err := c.Receive(&v); err != nil {
				r.Error(err)
				return
			}
			r.Return(v)
		})
		m.HandleFunc("greet", func(r rpc.Responder, c *rpc.Call) {
			var name, greeting wrapperspb.StringValue
			if err := c.ReceiveArgs(&name, &greeting); err != nil {
				r.Error(err)
				return
			}
			r.Continue(nil)
			for i := range 3 {
				r.Send(wrapperspb.String(fmt.Sprintf("%s, %s %d", greeting.Value, name.Value, i)))
			}
		})
		h := start(t, tc, &rpc.Server{Handler: m}, rpc.WithCodec(rpc.Msgpack))
		ctx := context.Background()

		var got tagged
		if _, err := h.client.Call(ctx, "move", []any{tagged{1, 2, "p"}, 10}, &got); err != nil || got != (tagged{11, 2, "p"}) {
			t.Errorf("msgpack move = %+v, %v", got, err)
		}
		var echo any
		if _, err := h.client.Call(ctx, "echo", map[string]any{"k": []any{int8(1), "x"}}, &echo); err != nil ||
			!reflect.DeepEqual(echo, map[string]any{"k": []any{int8(1), "x"}}) {
			t.Errorf("msgpack echo = %#v, %v", echo, err)
		}

		pb := rpc.NewClient(h.client.Session(), rpc.WithCodec(rpc.Protobuf))
		resp, err := pb.Call(ctx, "greet", []proto.Message{wrapperspb.String("ada"), wrapperspb.String("hi")}, nil)
		if err != nil {
			t.Fatalf("protobuf greet: %v", err)
		}
		defer resp.Close()
		for i := range 3 {
			var s wrapperspb.StringValue
			if err := resp.Receive(&s); err != nil || s.Value != fmt.Sprintf("hi, ada %d", i) {
				t.Errorf("protobuf stream value %d = %q, %v", i, s.Value, err)
			}
		}
		_, err = pb.Call(ctx, "echo", "not a message", nil)
		if !errors.Is(err, rpc.ErrNotProtoMessage) {
			t.Errorf("protobuf call with a string: %v, want ErrNotProtoMessage", err)
		}
	})
}

// Hostile msgpack fails to decode without allocating for the lengths it
// claims: counts and lengths past the end, deep nesting, bytes after the
// value, the reserved byte.
func TestMsgpackBoundedDecoding(t *testing.T) {
	deep := bytes.Repeat([]byte{0x91}, 33)
	deep = append(deep, 0x01)
	for name, data := range map[string][]byte{
		"array32 of 4G":   {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},
		"map32 of 4G":     {0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01},
		"str32 of 4G":     {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'},
		"bin32 of 4G":     {0xc6, 0xff, 0xff, 0xff, 0xff, 'a'},
		"ext32 of 4G":     {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'},
		"array16 short":   {0xdc, 0x00, 0x03, 0x01, 0x02},
		"33 levels":       deep,
		"trailing bytes":  {0x01, 0x02},
		"reserved 0xc1":   {0xc1},
		"empty":           {},
		"truncated head":  {0xcd, 0x01},
		"fixstr too long": {0xa5, 'a'},
	} {
		t.Run(name, func(t *testing.T) {
			var v any
			if n := allocatedBy(func() {
				if err := rpc.Msgpack.Unmarshal(data, &v); err == nil {
					t.Fatalf("decoded %x", data)
				}
			}); n > 64<<10 {
				t.Errorf("decoding a hostile value allocated %d bytes, want at most 64 KiB (no allocation for the length claimed)", n)
			}
		})
	}
	ok := append(bytes.Repeat([]byte{0x91}, 32), 0x01)
	var v any
	if err := rpc.Msgpack.Unmarshal(ok, &v); err != nil {
		t.Errorf("32 levels: %v", err)
	}
}

// allocatedBy returns the bytes f allocates on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Hostile protobuf arrays fail on lengths past the end.
func TestProtobufBoundedDecoding(t *testing.T) {
	ac := rpc.Protobuf.(rpc.ArrayCodec)
	for _, data := range [][]byte{
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01}, // field 1, length 4G
		{0x10, 0x01}, // field 2
	} {
		if _, err := ac.SplitArray(data); err == nil {
			t.Errorf("SplitArray(%x) succeeded", data)
		}
		var s wrapperspb.StringValue
		if err := rpc.Protobuf.Unmarshal(data[:len(data)-1], &s); err == nil && data[0] == 0x0a {
			t.Errorf("Unmarshal(%x) succeeded", data)
		}
	}
}
