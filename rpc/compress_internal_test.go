package rpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zstdBomb returns n zero bytes (a multiple of 1 MiB) compressed as a
// zstd stream that does not declare its size.
func zstdBomb(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range n >> 20 {
		enc.Write(zeros)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ZstdBomb is zstdBomb for the black-box tests.
var ZstdBomb = zstdBomb

// bombOf returns n zero bytes as a zstd stream that does not declare its
// size, and as one frame that does.
func bombOf(t *testing.T, n int) (stream, frame []byte) {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return zstdBomb(t, n), enc.EncodeAll(make([]byte, n), nil)
}

// Decompressing a value allocates a bounded multiple of what its frame
// declares, itself at most the frame limit, whatever the compressed bytes
// expand to.
func TestInflateAllocatesWithinTheLimit(t *testing.T) {
	const limit = 1 << 20
	stream, frame := bombOf(t, 64<<20)
	cases := []struct {
		name     string
		declared uint64
		z        []byte
		code     Code
	}{
		{"declared over the limit, size in the frame", 64 << 20, frame, CodeResourceExhausted},
		{"declared over the limit", 1 << 40, stream, CodeResourceExhausted},
		{"declared small, size in the frame", 4096, frame, CodeInvalidArgument},
		{"declared small", 4096, stream, CodeInvalidArgument},
		{"declared at the limit", limit, stream, CodeInvalidArgument},
	}
	zstdCodecs() // the decoders' own state is made once, not per value
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := binary.AppendUvarint([]byte{compressZstd}, tc.declared)
			p = append(p, tc.z...)
			fr := frameReader{maxSize: limit, compressed: true}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := fr.inflate(p)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("inflate took the bomb")
			}
			if tc.code == CodeResourceExhausted && CodeOf(err) != tc.code {
				t.Errorf("got %v, want %v", err, tc.code)
			}
			if tc.code == CodeInvalidArgument && !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want a malformed frame", err)
			}
			// The buffer of the declared size (or none, over the limit),
			// the decoder growing it once when a block goes past it, and
			// the decoder's bookkeeping; not the 64 MiB the bytes stand
			// for.
			var bound uint64 = 512 << 10
			if tc.declared <= limit {
				bound += 3 * tc.declared
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > bound {
				t.Errorf("inflate allocated %d bytes, want at most %d", got, bound)
			}
		})
	}
}
