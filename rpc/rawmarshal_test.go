package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
)

// cachedValue is a RawMarshaler that has its CBOR encoding ready and lets
// other codecs encode its value; it counts the encodings it gave.
type cachedValue struct {
	cbor  []byte
	value any
	fail  error
	given int
}

func (v *cachedValue) MarshalRaw(c rpc.Codec) ([]byte, bool, error) {
	if v.fail != nil {
		return nil, false, v.fail
	}
	if c.Name() != "cbor" {
		return nil, false, nil
	}
	v.given++
	return v.cbor, true, nil
}

func (v *cachedValue) MarshalJSON() ([]byte, error) { return json.Marshal(v.value) }

// A RawMarshaler's encoding is sent as it is; where it has none, the
// codec encodes the value, and its error fails the reply.
func TestRawMarshaler(t *testing.T) {
	v := &cachedValue{cbor: []byte{0x63, 'r', 'a', 'w'}} // the CBOR text "raw"
	h := startFunc(t, transports[0], func(r rpc.Responder, c *rpc.Call) { r.Return(v) })
	ctx := context.Background()
	var s string
	if _, err := h.client.Call(ctx, "x", nil, &s); err != nil || s != "raw" || v.given != 1 {
		t.Fatalf("CBOR: %q, %v, %d encodings given; want the encoding as it is", s, err, v.given)
	}
	v.value = "encoded by JSON"
	jc := rpc.NewClient(h.cs, rpc.WithCodec(rpc.JSON))
	if _, err := jc.Call(ctx, "x", nil, &s); err != nil || s != "encoded by JSON" || v.given != 1 {
		t.Fatalf("JSON: %q, %v, %d encodings given; want the codec's encoding", s, err, v.given)
	}
	v.fail = errors.New("no encoding")
	_, err := h.client.Call(ctx, "x", nil, &s)
	if rpc.CodeOf(err) != rpc.CodeInternal {
		t.Fatalf("a failing RawMarshaler: %v, want internal", err)
	}
}
