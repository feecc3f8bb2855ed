package rpc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/qtalkkit/qtalk/mux"
)

// Byte strings decode into a *[]byte as the library decodes them, reusing
// the slice's capacity; other values and malformed data go to the library.
func TestCBORByteStringFastPath(t *testing.T) {
	for _, n := range []int{0, 1, 23, 24, 255, 256, 65535, 65536, 1 << 20} {
		want := bytes.Repeat([]byte{0xab}, n)
		data, err := cbor.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 0, max(n, 1))
		p := &got[:1][0] // capacity reuse is observable through the array
		if err := CBOR.Unmarshal(data, &got); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: decoded %d bytes", n, len(got))
		}
		if n > 0 && &got[0] != p {
			t.Errorf("%d bytes: the slice's capacity was not reused", n)
		}
	}
	for name, data := range map[string][]byte{
		"truncated":         {0x5a, 0, 0, 1, 0, 1, 2},
		"indefinite length": {0x5f, 0x41, 1, 0xff},
		"trailing bytes":    {0x41, 1, 2},
		"text string":       {0x61, 'a'},
	} {
		got := []byte{}
		fast := CBOR.Unmarshal(data, &got)
		var lib []byte
		slow := cbor.Unmarshal(data, &lib)
		if (fast == nil) != (slow == nil) || !bytes.Equal(got, lib) {
			t.Errorf("%s: got %x, %v; the library gives %x, %v", name, got, fast, lib, slow)
		}
	}
}

// A long byte slice sent from the caller's memory makes the same frame as
// the codec encodes, in the writes of one frame.
func TestSendByteStringMatchesCodec(t *testing.T) {
	for _, n := range []int{directWriteMin, 65535, 65536, 1 << 20} {
		p := bytes.Repeat([]byte{0xcd}, n)
		want, err := CBOR.Append(appendFrameHeader(nil, frameValue), p)
		if err != nil {
			t.Fatal(err)
		}
		want = finishFrame(want, 0)
		var w recordingChannel
		if err := writeValue(&w, CBOR, p, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Bytes(), want) {
			t.Errorf("%d bytes: sent % x..., want % x...", n, w.Bytes()[:16], want[:16])
		}
		if w.writes != 2 {
			t.Errorf("%d bytes: %d writes, want 2 (header, then the slice itself)", n, w.writes)
		}
	}
	// The head in every length class, against the library's.
	for _, n := range []uint64{0, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32} {
		want, err := cbor.Marshal(make([]byte, min(n, 1<<16+1)))
		if err != nil {
			t.Fatal(err)
		}
		got := appendCBORByteStringHead(nil, n)
		if n <= 1<<16+1 && !bytes.Equal(got, want[:len(got)]) {
			t.Errorf("head of %d bytes: % x, want % x", n, got, want[:len(got)])
		}
		if head, size, ok := cborByteStringHead(got); !ok || head != len(got) || size != n {
			t.Errorf("head of %d bytes % x parses as %d, %d, %v", n, got, head, size, ok)
		}
	}
}

// recordingChannel is a mux.Channel that keeps what is written to it.
type recordingChannel struct {
	mux.Channel
	buf    bytes.Buffer
	writes int
}

func (c *recordingChannel) Write(p []byte) (int, error) {
	c.writes++
	return c.buf.Write(p)
}

func (c *recordingChannel) Bytes() []byte { return c.buf.Bytes() }

// lengthCodec is a BytesCodec of another kind than CBOR: a []byte is a
// uvarint length and the bytes. It encodes nothing else.
type lengthCodec struct{}

func (lengthCodec) Name() string { return "length" }

func (lengthCodec) Append(b []byte, v any) ([]byte, error) {
	p, ok := v.([]byte)
	if !ok {
		return b, fmt.Errorf("length codec: cannot encode %T", v)
	}
	return append(binary.AppendUvarint(b, uint64(len(p))), p...), nil
}

func (lengthCodec) Unmarshal(data []byte, v any) error {
	n, head := binary.Uvarint(data)
	p, ok := v.(*[]byte)
	if head <= 0 || n != uint64(len(data)-head) || !ok {
		return fmt.Errorf("length codec: cannot decode %d bytes into %T", len(data), v)
	}
	*p = append((*p)[:0], data[head:]...)
	return nil
}

func (lengthCodec) AppendBytesHead(b []byte, n int) []byte {
	return binary.AppendUvarint(b, uint64(n))
}

func (lengthCodec) ParseBytesHead(data []byte) (int, uint64, bool) {
	n, head := binary.Uvarint(data)
	return head, n, head > 0
}

// Any BytesCodec gets the direct paths, not only CBOR: a long []byte is
// sent from the caller's slice as the codec would encode it, and read
// back into the receiver's slice without the frame buffer.
func TestBytesCodecDirectPaths(t *testing.T) {
	var _ BytesCodec = lengthCodec{}
	p := bytes.Repeat([]byte{0xef}, 3*directWriteMin)
	want, err := lengthCodec{}.Append(appendFrameHeader(nil, frameValue), p)
	if err != nil {
		t.Fatal(err)
	}
	want = finishFrame(want, 0)
	var w recordingChannel
	if err := writeValue(&w, lengthCodec{}, p, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), want) || w.writes != 2 {
		t.Fatalf("sent % x... in %d writes, want % x... in 2", w.Bytes()[:16], w.writes, want[:16])
	}

	fr := frameReader{r: bytes.NewReader(want), maxSize: DefaultMaxFrameSize}
	defer fr.release()
	got := make([]byte, 0, len(p))
	first := &got[:1][0]
	if err := receive(&fr, lengthCodec{}, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, p) || &got[0] != first {
		t.Fatalf("received %d bytes, into the caller's slice: %v", len(got), &got[0] == first)
	}
	if fr.buf != nil && len(fr.buf) >= len(p) {
		t.Fatalf("the frame buffer grew to %d bytes: the value went through it", len(fr.buf))
	}
}
