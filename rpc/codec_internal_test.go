package rpc

import (
	"bytes"
	"testing"

	"github.com/fxamacker/cbor/v2"
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
