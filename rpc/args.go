package rpc

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// An ArrayCodec is a Codec that can split an encoded array into the
// encodings of its elements, so that each element can be decoded into a
// value of its own type (see Call.ReceiveArgs). The built-in codecs
// (CBOR, JSON, msgpack, protobuf) are ArrayCodecs.
//
// Call.ReceiveArgs takes the encoded array from Call.Receive, with a value
// that implements RawUnmarshaler (and the unmarshaler interfaces of the
// CBOR and JSON libraries): an ArrayCodec's Unmarshal must hand such a
// value its data as it is.
type ArrayCodec interface {
	Codec
	// SplitArray returns the encoding of each element of the array that
	// data encodes, in order. The element slices may alias data. A null
	// value is an empty array; any other value that is not an array is an
	// error.
	SplitArray(data []byte) ([][]byte, error)
}

// A RawUnmarshaler takes the encoding of a value as it is. It must copy
// data to keep it.
type RawUnmarshaler interface {
	UnmarshalRaw(data []byte) error
}

// A RawMarshaler gives the encoding of a value in codec c as it is, to be
// sent without encoding it again (ok true), or ok false to have c encode
// it: a value sent to many calls, say, is encoded once per codec. The
// encoding must be exactly one value of c.
type RawMarshaler interface {
	MarshalRaw(c Codec) (encoding []byte, ok bool, err error)
}

var (
	_ ArrayCodec     = cborCodec{}
	_ ArrayCodec     = jsonCodec{}
	_ RawUnmarshaler = (*rawValue)(nil)
)

// rawValue captures the encoding of a value. The CBOR and JSON libraries
// hand their unmarshalers a slice of their input, which rawValue keeps
// without copying: SplitArray documents that its results alias data, and
// ReceiveArgs decodes the payload of a frame before the next read.
type rawValue []byte

func (v *rawValue) UnmarshalCBOR(data []byte) error {
	*v = data[:len(data):len(data)]
	return nil
}

func (v *rawValue) UnmarshalJSON(data []byte) error {
	*v = data[:len(data):len(data)]
	return nil
}

// UnmarshalRaw copies data, as other codecs make no promise about it.
func (v *rawValue) UnmarshalRaw(data []byte) error {
	*v = append((*v)[:0], data...)
	return nil
}

func (cborCodec) SplitArray(data []byte) ([][]byte, error) {
	var elems []rawValue
	err := cbor.Unmarshal(data, &elems)
	return elementSlices(elems), err
}

func (jsonCodec) SplitArray(data []byte) ([][]byte, error) {
	var elems []rawValue
	err := json.Unmarshal(data, &elems)
	return elementSlices(elems), err
}

func elementSlices(elems []rawValue) [][]byte {
	if len(elems) == 0 {
		return nil
	}
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out
}

// ReceiveArgs decodes the next value from the client, an array, element by
// element into ptrs (pointers, or nil to discard an element). It receives
// the value with Receive, so the first value it decodes is the call's
// arguments, and it returns io.EOF once the client ended its stream. A
// null value counts as an empty array. The call's codec must be an
// ArrayCodec, or ReceiveArgs fails with CodeUnimplemented and receives
// nothing.
//
// An array of the wrong length, or an element that does not decode into
// its pointer, is a CodeInvalidArgument error whose message names the
// expected count and types, or the zero-based index and type of the
// element, e.g. "argument 1 (int): ...".
func (c *Call) ReceiveArgs(ptrs ...any) error {
	ac, ok := c.codec.(ArrayCodec)
	if !ok {
		return Errorf(CodeUnimplemented, "codec %q cannot decode argument arrays", c.codec.Name())
	}
	var data rawValue
	if err := c.Receive(&data); err != nil {
		return err
	}
	elems, err := ac.SplitArray(data)
	if err != nil {
		return Errorf(CodeInvalidArgument, "arguments are not a %s array: %w", ac.Name(), err)
	}
	if len(elems) != len(ptrs) {
		return Errorf(CodeInvalidArgument, "expects %d arguments%s, got %d", len(ptrs), typeList(ptrs), len(elems))
	}
	for i, e := range elems {
		if err := ac.Unmarshal(e, ptrs[i]); err != nil {
			return Errorf(CodeInvalidArgument, "argument %d (%s): %w", i, elemType(ptrs[i]), err)
		}
	}
	return nil
}

// elemType names the type a pointer points to.
func elemType(p any) string {
	t := reflect.TypeOf(p)
	switch {
	case t == nil:
		return "discarded"
	case t.Kind() == reflect.Pointer:
		return t.Elem().String()
	}
	return t.String()
}

// typeList lists the types ptrs point to in parentheses, or returns ""
// when there are none.
func typeList(ptrs []any) string {
	if len(ptrs) == 0 {
		return ""
	}
	names := make([]string, len(ptrs))
	for i, p := range ptrs {
		names[i] = elemType(p)
	}
	return " (" + strings.Join(names, ", ") + ")"
}
