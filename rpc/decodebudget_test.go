package rpc_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// cborArray returns a CBOR array of n copies of elem.
func cborArray(n int, elem []byte) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0x9a}, uint32(n))
	return append(b, bytes.Repeat(elem, n)...)
}

// cborMapOfInts returns a CBOR map of the keys 0..n-1 (n < 65536), each
// mapped to elem.
func cborMapOfInts(n int, elem []byte) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0xba}, uint32(n))
	for i := range n {
		b = binary.BigEndian.AppendUint16(append(b, 0x19), uint16(i))
		b = append(b, elem...)
	}
	return b
}

// jsonArray returns a JSON array of n copies of elem.
func jsonArray(n int, elem string) []byte {
	return []byte("[" + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + "]")
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Decoding a CBOR or JSON value into interface values allocates at most
// 64 times its size plus 64 KiB (spec/limits.md), whatever its shape:
// shapes that would cost more than the estimate allows (mostly empty or
// one-pair containers) fail with ErrDecodeBudget before anything is
// decoded, and ordinary shapes decode.
func TestDecodeBudget(t *testing.T) {
	const n = 1 << 16 // fxamacker/cbor takes arrays of up to 131072
	indefinite := func(open byte, elem []byte) []byte {
		return append(append([]byte{open}, bytes.Repeat(elem, n)...), 0xff)
	}
	for _, tt := range []struct {
		name     string
		codec    rpc.Codec
		data     []byte
		overflow bool // over the budget
	}{
		{"cbor empty maps", rpc.CBOR, cborArray(n, []byte{0xa0}), true},
		{"cbor one-pair maps", rpc.CBOR, cborArray(n, []byte{0xa1, 0x01, 0x01}), true},
		{"cbor maps of empty maps", rpc.CBOR, cborArray(n, []byte{0xa2, 0x00, 0xa0, 0x01, 0xa0}), true},
		{"cbor empty maps in an indefinite array", rpc.CBOR, indefinite(0x9f, []byte{0xa0}), true},
		{"cbor one-pair maps of indefinite length", rpc.CBOR, cborArray(n, []byte{0xbf, 0x01, 0x01, 0xff}), true},
		{"cbor empty arrays", rpc.CBOR, cborArray(n, []byte{0x80}), false},
		{"cbor map of empty arrays", rpc.CBOR, cborMapOfInts(n, []byte{0x80}), false},
		{"cbor indefinite empty maps", rpc.CBOR, indefinite(0x9f, []byte{0xbf, 0xff}), false},
		{"cbor small ints", rpc.CBOR, cborArray(n, []byte{0x01}), false},
		{"cbor pairs of ints", rpc.CBOR, cborArray(n, []byte{0x82, 0x01, 0x02}), false},
		{"cbor short strings", rpc.CBOR, cborArray(n, []byte{0x61, 'a'}), false},
		{"cbor tagged ints", rpc.CBOR, cborArray(n, []byte{0xc1, 0x01}), false},
		{"cbor byte string", rpc.CBOR, append([]byte{0x5a, 0, 0x10, 0, 0}, make([]byte, 1<<20)...), false},
		{"json empty objects", rpc.JSON, jsonArray(n, "{}"), true},
		{"json empty arrays", rpc.JSON, jsonArray(n, "[]"), true},
		{"json one-key objects", rpc.JSON, jsonArray(n, `{"a":1}`), false},
		{"json objects", rpc.JSON, jsonArray(n, `{"id":1,"name":"x"}`), false},
		{"json numbers", rpc.JSON, jsonArray(n, "1"), false},
		{"json strings", rpc.JSON, jsonArray(n, `"a"`), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			var err error
			got := allocated(func() { err = tt.codec.Unmarshal(tt.data, &v) })
			v = nil
			if bound := uint64(64*len(tt.data) + 64<<10); got > bound {
				t.Errorf("decoding %d bytes allocated %d, over the budget of %d", len(tt.data), got, bound)
			}
			if tt.overflow != errors.Is(err, rpc.ErrDecodeBudget) {
				t.Errorf("decoding %d bytes: %v; want over the budget: %v", len(tt.data), err, tt.overflow)
			}
			if !tt.overflow && err != nil {
				t.Errorf("decoding %d bytes: %v", len(tt.data), err)
			}
		})
	}
}

// Arguments over the decode budget get resource_exhausted without being
// decoded, and the session goes on: 4 MiB of empty CBOR maps, in arrays
// under the decoder's limit on elements, once cost some 275 MiB.
func TestArgumentsOverDecodeBudget(t *testing.T) {
	h := startFunc(t, transportCase{name: "pipe", pair: pipePair}, func(r rpc.Responder, c *rpc.Call) {
		var v any
		if err := c.Receive(&v); err != nil {
			r.Error(err)
			return
		}
		r.Return("decoded")
	})
	const arrays, maps = 31, 131000
	args := binary.BigEndian.AppendUint32([]byte{0x9a}, arrays)
	for range arrays {
		args = append(args, cborArray(maps, []byte{0xa0})...)
	}
	call := appendFrame(appendFrame(nil, kindCall, callPayload("x", "cbor", 0)), kindValue, args)
	var code uint64
	got := allocated(func() {
		ch := rawCall(t, h.cs, call)
		code = expectErrorFrame(t, ch, kindReply)
	})
	if code != uint64(rpc.CodeResourceExhausted) {
		t.Errorf("%d bytes of empty maps: code %d, want resource_exhausted", len(args), code)
	}
	if got > 64<<20 {
		t.Errorf("the call allocated %d MiB, want under 64", got>>20)
	}
	var reply string
	if _, err := h.client.Call(t.Context(), "x", []int{1, 2}, &reply); err != nil || reply != "decoded" {
		t.Errorf("a call after: %q, %v", reply, err)
	}
}

// A call header declaring two million metadata pairs, all of them the
// same empty key, fills a map of one pair, not one sized from the count:
// that once cost 163 MiB per call.
func TestHugeMetadataCount(t *testing.T) {
	h := startFunc(t, transportCase{name: "pipe", pair: pipePair}, func(r rpc.Responder, c *rpc.Call) {
		r.Return(len(c.Metadata))
	})
	const pairs = 2_000_000
	p := appendWireString(nil, "x")
	p = appendWireString(p, "cbor")
	p = binary.AppendUvarint(p, 0)
	p = binary.AppendUvarint(p, pairs)
	p = append(p, make([]byte, 2*pairs)...) // "" -> "", pairs times
	call := appendFrame(appendFrame(nil, kindCall, p), kindValue, cborNull)
	var kind byte
	var reply []byte
	got := allocated(func() {
		ch := rawCall(t, h.cs, call)
		// A bound on a hang, not on the time the call takes: the whole
		// test took up to 7 s under -race at -cpu 1 with both cores
		// loaded, nearly all of it the call, where 10 s had been the
		// bound.
		ch.SetReadDeadline(time.Now().Add(time.Minute))
		var err error
		if kind, _, err = readFrame(ch); err != nil {
			t.Fatal(err)
		}
		if _, reply, err = readFrame(ch); err != nil {
			t.Fatal(err)
		}
	})
	if kind != kindReply || !bytes.Equal(reply, []byte{0x01}) {
		t.Errorf("got frame kind %d, value %x; want a reply of 1 (pair)", kind, reply)
	}
	if got > 32<<20 {
		t.Errorf("the call allocated %d MiB, want under 32", got>>20)
	}
}
