package rpc

import (
	"errors"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Protobuf encodes proto.Message values with Protocol Buffers
// (google.golang.org/protobuf), in the binary wire format; no other Go
// type can be encoded or decoded, but nil, which is the empty encoding.
// An array (a Go slice of messages, such as the arguments of package fn)
// travels as the message
//
//	message Array { repeated bytes values = 1; }
//
// each element as the encoding of its message (spec/rpc.md, section 9).
// Decoding checks every length against the bytes left before it
// allocates, and nests at most proto's default recursion limit.
var Protobuf Codec = protobufCodec{}

type protobufCodec struct{}

var _ ArrayCodec = protobufCodec{}

// ErrNotProtoMessage is matched by the error of the protobuf codec for a
// value that is not a proto.Message.
var ErrNotProtoMessage = errors.New("rpc: the protobuf codec takes proto.Message values only")

// protobufArrayField is the field number of the elements of an Array.
const protobufArrayField = 1

func (protobufCodec) Name() string { return "protobuf" }

func (protobufCodec) Append(b []byte, v any) ([]byte, error) {
	switch m := v.(type) {
	case nil:
		return b, nil
	case proto.Message:
		return proto.MarshalOptions{}.MarshalAppend(b, m)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return b, fmt.Errorf("%w: %T", ErrNotProtoMessage, v)
	}
	var elem []byte
	for i := range rv.Len() {
		var err error
		if elem, err = (protobufCodec{}).Append(elem[:0], rv.Index(i).Interface()); err != nil {
			return b, fmt.Errorf("element %d: %w", i, err)
		}
		b = protowire.AppendTag(b, protobufArrayField, protowire.BytesType)
		b = protowire.AppendBytes(b, elem)
	}
	return b, nil
}

// Unmarshal decodes data into v, a proto.Message (a pointer to a
// generated struct) or a pointer to one. A RawUnmarshaler gets data as
// it is.
func (protobufCodec) Unmarshal(data []byte, v any) error {
	switch m := v.(type) {
	case nil:
		return nil
	case RawUnmarshaler:
		return m.UnmarshalRaw(data)
	case proto.Message:
		return proto.Unmarshal(data, m)
	}
	// A pointer to a message pointer (a func parameter of package fn):
	// decode into a new message.
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer {
		if m, ok := reflect.New(rv.Elem().Type().Elem()).Interface().(proto.Message); ok {
			if err := proto.Unmarshal(data, m); err != nil {
				return err
			}
			rv.Elem().Set(reflect.ValueOf(m))
			return nil
		}
	}
	return fmt.Errorf("%w: %T", ErrNotProtoMessage, v)
}

// SplitArray returns the element encodings of an Array message; empty
// data (nil) is an empty array. Fields other than the elements are an
// error.
func (protobufCodec) SplitArray(data []byte) ([][]byte, error) {
	var elems [][]byte
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		if num != protobufArrayField || typ != protowire.BytesType {
			return nil, fmt.Errorf("rpc: protobuf array with field %d of wire type %d", num, typ)
		}
		data = data[n:]
		elem, n := protowire.ConsumeBytes(data) // checks the length against data
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		elems = append(elems, elem)
		data = data[n:]
	}
	return elems, nil
}
