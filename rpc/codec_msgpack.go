package rpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/vmihailenco/msgpack/v5"
)

// Msgpack encodes values with MessagePack (github.com/vmihailenco/msgpack/v5).
// Struct fields are named as the JSON codec names them (the field name, or
// its json tag); integers go in their shortest form. It decodes a map into
// an any as a map[string]any when its keys are all strings, else as a
// map[any]any. Before decoding, it checks the whole value: a length or
// count larger than the bytes left, more than maxGenericDepth levels of
// arrays and maps, bytes after the value, and the reserved byte 0xc1 are
// errors, so a hostile length never allocates.
var Msgpack Codec = msgpackCodec{}

type msgpackCodec struct{}

var _ ArrayCodec = msgpackCodec{}

func (msgpackCodec) Name() string { return "msgpack" }

func (msgpackCodec) Append(b []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	enc.SetCustomStructTag("json")
	enc.UseCompactInts(true)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// Unmarshal decodes data, exactly one checked value, into v. A
// RawUnmarshaler (ReceiveArgs' elements) gets data as it is.
func (msgpackCodec) Unmarshal(data []byte, v any) error {
	if v == nil {
		return nil
	}
	if err := msgpackCheck(data); err != nil {
		return err
	}
	if u, ok := v.(RawUnmarshaler); ok {
		return u.UnmarshalRaw(data)
	}
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(bytes.NewReader(data))
	dec.SetCustomStructTag("json")
	dec.SetMapDecoder(decodeMsgpackMap)
	return dec.Decode(v)
}

// SplitArray returns the encodings of the elements of the array data
// encodes; nil is an empty array.
func (msgpackCodec) SplitArray(data []byte) ([][]byte, error) {
	if err := msgpackCheck(data); err != nil {
		return nil, err
	}
	if data[0] == 0xc0 { // nil
		return nil, nil
	}
	pos, n, err := msgpackItem(data)
	if c := data[0]; err != nil || !(c>>4 == 0x9 || c == 0xdc || c == 0xdd) {
		return nil, fmt.Errorf("%w: not an array", errMsgpackMalformed)
	}
	elems := make([][]byte, 0, n)
	for range n {
		end, err := msgpackSkip(data, pos)
		if err != nil {
			return nil, err
		}
		elems = append(elems, data[pos:end])
		pos = end
	}
	return elems, nil
}

// decodeMsgpackMap decodes a map into an any: a map[string]any if its
// keys are all strings, else a map[any]any. A key that cannot be one (an
// array, a map, a byte string) is an error.
func decodeMsgpackMap(d *msgpack.Decoder) (any, error) {
	n, err := d.DecodeMapLen()
	if err != nil || n == -1 {
		return nil, err
	}
	strs := make(map[string]any, n) // n is checked against the bytes left
	var anys map[any]any
	for range n {
		k, err := d.DecodeInterface()
		if err != nil {
			return nil, err
		}
		v, err := d.DecodeInterface()
		if err != nil {
			return nil, err
		}
		if s, ok := k.(string); ok && anys == nil {
			strs[s] = v
			continue
		}
		if k != nil && !reflect.TypeOf(k).Comparable() {
			return nil, fmt.Errorf("rpc: msgpack map key of type %T", k)
		}
		if anys == nil {
			anys = make(map[any]any, n)
			for s, v := range strs {
				anys[s] = v
			}
		}
		anys[k] = v
	}
	if anys != nil {
		return anys, nil
	}
	return strs, nil
}

// maxGenericDepth bounds the nesting of arrays and maps in a msgpack
// value, as the CBOR codec bounds it (spec/rpc.md, section 11).
const maxGenericDepth = 32

// errMsgpackMalformed is matched by the errors of msgpackCheck.
var errMsgpackMalformed = errors.New("rpc: malformed msgpack value")

// msgpackCheck checks that data is exactly one well-formed msgpack value
// whose lengths and counts fit in data, nested at most maxGenericDepth
// levels, without allocating.
func msgpackCheck(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty", errMsgpackMalformed)
	}
	end, err := msgpackSkip(data, 0)
	if err != nil {
		return err
	}
	if end != len(data) {
		return fmt.Errorf("%w: %d bytes after the value", errMsgpackMalformed, len(data)-end)
	}
	return nil
}

// msgpackSkip returns the end of the value that starts at data[pos],
// checking it as msgpackCheck does. It walks the value with a stack of
// the items left in each open array or map.
func msgpackSkip(data []byte, pos int) (int, error) {
	var left [maxGenericDepth + 1]int
	depth := 0
	left[0] = 1
	for {
		if pos >= len(data) {
			return 0, fmt.Errorf("%w: truncated", errMsgpackMalformed)
		}
		size, items, err := msgpackItem(data[pos:])
		if err != nil {
			return 0, err
		}
		if size > len(data)-pos || items > len(data)-pos-size {
			return 0, fmt.Errorf("%w: a length past the end", errMsgpackMalformed)
		}
		pos += size
		left[depth]--
		if items > 0 {
			if depth == maxGenericDepth {
				return 0, fmt.Errorf("%w: nested deeper than %d", errMsgpackMalformed, maxGenericDepth)
			}
			depth++
			left[depth] = items
		}
		for left[depth] == 0 {
			if depth == 0 {
				return pos, nil
			}
			depth--
		}
	}
}

// msgpackItem returns the size of the item at the start of b (its head
// and, for strings, binaries and extensions, its content) and how many
// items follow inside it (array elements, or map keys and values). The
// size may exceed b: the caller checks it.
func msgpackItem(b []byte) (size, items int, err error) {
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return 1, 0, nil
	case c>>4 == 0x8: // fixmap
		return 1, 2 * int(c&0x0f), nil
	case c>>4 == 0x9: // fixarray
		return 1, int(c & 0x0f), nil
	case c>>5 == 0x5: // fixstr
		return 1 + int(c&0x1f), 0, nil
	}
	// length returns the n-byte big-endian length after the code byte.
	length := func(n int) (int, error) {
		if len(b) < 1+n {
			return 0, fmt.Errorf("%w: truncated head", errMsgpackMalformed)
		}
		switch n {
		case 1:
			return int(b[1]), nil
		case 2:
			return int(binary.BigEndian.Uint16(b[1:])), nil
		}
		return int(binary.BigEndian.Uint32(b[1:])), nil
	}
	var n, head int
	switch c {
	case 0xcc, 0xd0:
		return 2, 0, nil
	case 0xcd, 0xd1:
		return 3, 0, nil
	case 0xca, 0xce, 0xd2:
		return 5, 0, nil
	case 0xcb, 0xcf, 0xd3:
		return 9, 0, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1 to 16, with a type byte
		return 2 + 1<<(c-0xd4), 0, nil
	case 0xc4, 0xd9: // bin8, str8
		n, head = 1, 2
	case 0xc5, 0xda:
		n, head = 2, 3
	case 0xc6, 0xdb:
		n, head = 4, 5
	case 0xc7: // ext8, ext16, ext32: a type byte after the length
		n, head = 1, 3
	case 0xc8:
		n, head = 2, 4
	case 0xc9:
		n, head = 4, 6
	case 0xdc: // array16, array32
		l, err := length(2)
		return 3, l, err
	case 0xdd:
		l, err := length(4)
		return 5, l, err
	case 0xde: // map16, map32
		l, err := length(2)
		return 3, 2 * l, err
	case 0xdf:
		l, err := length(4)
		return 5, 2 * l, err
	default: // 0xc1, never used
		return 0, 0, fmt.Errorf("%w: reserved byte %#x", errMsgpackMalformed, c)
	}
	l, err := length(n)
	return head + l, 0, err
}
