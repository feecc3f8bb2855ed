package rpc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// A Codec encodes the values of calls: arguments, replies and stream
// messages. The call header names the client's codec, so a server can
// answer in kind or refuse a codec it does not know.
type Codec interface {
	// Name identifies the codec on the wire, e.g. "cbor".
	Name() string
	// Append appends the encoding of v to b.
	Append(b []byte, v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer. A nil v discards data.
	Unmarshal(data []byte, v any) error
}

// A BytesCodec is a Codec that encodes a []byte as a short head followed
// by the bytes as they are, as CBOR does. With such a codec, rpc writes a
// long byte slice from the sender's memory, and reads one into a *[]byte
// straight from the channel, sparing a copy through a frame buffer at
// each end. CBOR is a BytesCodec; any codec may be one.
type BytesCodec interface {
	Codec
	// AppendBytesHead appends the head of the encoding of a []byte of n
	// bytes: the head followed by the n bytes is what Append gives for
	// them, and Unmarshal decodes it into a *[]byte as those bytes. A
	// head has at most 16 bytes.
	AppendBytesHead(b []byte, n int) []byte
	// ParseBytesHead parses the head of an encoded []byte at the start of
	// data, which holds the encoding's first 16 bytes or more: the head's
	// length and the number of bytes that follow it. It returns ok false
	// if data does not start with such a head; the value is then decoded
	// with Unmarshal.
	ParseBytesHead(data []byte) (head int, n uint64, ok bool)
}

// maxBytesHead bounds the heads of a BytesCodec.
const maxBytesHead = 16

// CBOR is the default codec (RFC 8949, with fxamacker/cbor).
var CBOR Codec = cborCodec{}

// JSON encodes values with encoding/json.
var JSON Codec = jsonCodec{}

type cborCodec struct{}

func (cborCodec) Name() string { return "cbor" }

var cborBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (cborCodec) Append(b []byte, v any) ([]byte, error) {
	buf := cborBuffers.Get().(*bytes.Buffer)
	*buf = *bytes.NewBuffer(b)
	err := cbor.MarshalToBuffer(v, buf)
	b = buf.Bytes()
	*buf = bytes.Buffer{}
	cborBuffers.Put(buf)
	return b, err
}

// Unmarshal decodes data into v. A byte string decoded into a *[]byte
// reuses the slice's capacity, as encoding/json does for arrays: a caller
// that keeps received byte slices passes a nil slice each time.
func (cborCodec) Unmarshal(data []byte, v any) error {
	if v == nil {
		return nil
	}
	if b, ok := v.(*[]byte); ok && *b != nil {
		if payload, ok := cborByteString(data); ok {
			*b = append((*b)[:0], payload...)
			return nil
		}
	}
	if err := checkCBORBudget(data); err != nil {
		return err
	}
	return cbor.Unmarshal(data, v)
}

func (cborCodec) AppendBytesHead(b []byte, n int) []byte {
	return appendCBORByteStringHead(b, uint64(n))
}

func (cborCodec) ParseBytesHead(data []byte) (head int, n uint64, ok bool) {
	return cborByteStringHead(data)
}

// cborByteString returns the content of data if data is exactly one
// definite-length CBOR byte string (major type 2).
func cborByteString(data []byte) ([]byte, bool) {
	head, n, ok := cborByteStringHead(data)
	if !ok || n != uint64(len(data)-head) {
		return nil, false
	}
	return data[head:], true
}

// cborByteStringHead parses the head of a definite-length CBOR byte string
// at the start of data: its length in bytes and the length of its content.
func cborByteStringHead(data []byte) (head int, n uint64, ok bool) {
	if len(data) == 0 || data[0]>>5 != 2 {
		return 0, 0, false
	}
	switch info := data[0] & 0x1f; {
	case info < 24:
		return 1, uint64(info), true
	case info == 24 && len(data) >= 2:
		return 2, uint64(data[1]), true
	case info == 25 && len(data) >= 3:
		return 3, uint64(binary.BigEndian.Uint16(data[1:])), true
	case info == 26 && len(data) >= 5:
		return 5, uint64(binary.BigEndian.Uint32(data[1:])), true
	case info == 27 && len(data) >= 9:
		return 9, binary.BigEndian.Uint64(data[1:]), true
	}
	return 0, 0, false // indefinite length, reserved values, or truncated
}

// appendCBORByteStringHead appends the head of a CBOR byte string of n
// bytes, in the shortest form, as the encoder writes it.
func appendCBORByteStringHead(b []byte, n uint64) []byte {
	const major = 2 << 5
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= math.MaxUint8:
		return append(b, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), n)
}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

// Append appends the JSON encoding of v. A generic value that another
// codec decoded (a CBOR or msgpack map with keys of any type) is encoded
// as JSON would have decoded it: see jsonGeneric.
func (jsonCodec) Append(b []byte, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	var unsupported *json.UnsupportedTypeError
	if errors.As(err, &unsupported) {
		var g any
		if g, err = jsonGeneric(v); err == nil {
			data, err = json.Marshal(g)
		}
	}
	return append(b, data...), err
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if v == nil {
		return nil
	}
	if err := checkJSONBudget(data); err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

var (
	codecsMu sync.RWMutex
	codecs   = map[string]Codec{"cbor": CBOR, "json": JSON, "msgpack": Msgpack, "protobuf": Protobuf}
)

// RegisterCodec makes c available to servers by its name.
func RegisterCodec(c Codec) {
	codecsMu.Lock()
	defer codecsMu.Unlock()
	codecs[c.Name()] = c
}

// codecByName returns the registered codec called name.
func codecByName(name string) (Codec, error) {
	codecsMu.RLock()
	c, ok := codecs[name]
	codecsMu.RUnlock()
	if !ok {
		return nil, Errorf(CodeUnimplemented, "unknown codec %q", name)
	}
	return c, nil
}

// decodeValue decodes a value frame's payload, reporting failures as
// invalid-argument errors that name the codec. A RawUnmarshaler gets the
// encoded bytes as they are.
func decodeValue(c Codec, data []byte, v any) error {
	if u, ok := v.(RawUnmarshaler); ok {
		if err := u.UnmarshalRaw(data); err != nil {
			return Errorf(CodeInvalidArgument, "decode %s value into %T: %w", c.Name(), v, err)
		}
		return nil
	}
	if err := c.Unmarshal(data, v); err != nil {
		code := CodeInvalidArgument
		if errors.Is(err, ErrDecodeBudget) {
			code = CodeResourceExhausted
		}
		return Errorf(code, "decode %s value into %T: %w", c.Name(), v, err)
	}
	return nil
}
