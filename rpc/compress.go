package rpc

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Compression of values (spec/rpc.md, section 13). A client that takes
// compressed values says so in its call header (the metadata key
// compressKey, "zstd"); a server that takes them too answers with the
// reply flag flagCompress. From then on each side may send a value of at
// least its threshold as a COMPRESSED frame instead of a VALUE frame: the
// server on that call, the client on that call and, for its arguments,
// on the later calls of the session. A peer that never says it takes
// compressed values is never sent one.

const (
	// frameCompressed carries one value, compressed: the encoding (1
	// byte), the value's length once decompressed (uvarint), then the
	// compressed bytes.
	frameCompressed = 8

	// compressZstd is the only encoding: one or more zstd frames (RFC
	// 8878).
	compressZstd = 1

	// flagCompress, a reply flag: the server takes compressed values on
	// the session. Set only on a successful reply to a call whose header
	// said the client takes them.
	flagCompress = 1 << 3

	// compressKey is the metadata key of a call header by which a client
	// says it takes compressed values, with the value compressName. It
	// is not part of Call.Metadata.
	compressKey  = "qtalk-compress"
	compressName = "zstd"
)

// DefaultCompressMin is the size of an encoded value from which a client
// with WithCompression(0), or a Server with CompressMin 0, compresses it.
const DefaultCompressMin = 4 << 10

// zstdEncoder compresses values; EncodeAll is safe for concurrent use.
// zstdDecoder decompresses them, never more than the capacity of the
// buffer it is given (WithDecodeAllCapLimit), so that what a peer claims
// a value's length to be bounds what decompressing it allocates.
var (
	zstdOnce    sync.Once
	zstdEncoder *zstd.Encoder
	zstdDecoder *zstd.Decoder
)

func zstdCodecs() (*zstd.Encoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		var err error
		zstdEncoder, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err) // the options are constants: a failure is a bug
		}
		zstdDecoder, err = zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderLowmem(true))
		if err != nil {
			panic(err)
		}
	})
	return zstdEncoder, zstdDecoder
}

// compressFrame replaces the VALUE frame at w.b[start:], if its payload
// has at least zmin bytes and compresses to fewer, with a COMPRESSED
// frame of the same value. A zmin of 0 or less leaves it as it is.
func (w *frameWriter) compressFrame(start, zmin int) {
	payload := w.b[start+frameHeaderLen:]
	if zmin <= 0 || len(payload) < zmin {
		return
	}
	enc, _ := zstdCodecs()
	zw := newFrameWriter()
	defer zw.release()
	zw.b = appendFrameHeader(zw.b, frameCompressed)
	zw.b = append(zw.b, compressZstd)
	zw.b = binary.AppendUvarint(zw.b, uint64(len(payload)))
	zw.b = enc.EncodeAll(payload, zw.b)
	if len(zw.b) >= frameHeaderLen+len(payload) {
		return // incompressible: the value goes as it is
	}
	w.b = finishFrame(append(w.b[:start], zw.b...), start)
}

// inflate decompresses the payload of a COMPRESSED frame into fr's
// decompression buffer, valid until the next inflate. A length over the
// frame limit is refused before anything is allocated for it, and the
// decoder writes no more than the length said.
func (fr *frameReader) inflate(p []byte) ([]byte, error) {
	if !fr.compressed {
		return nil, fmt.Errorf("%w: a compressed value, which this side did not say it takes", ErrMalformed)
	}
	d := decoder{b: p}
	encoding := d.byte()
	size := d.uvarint()
	switch {
	case d.err != nil:
		return nil, d.err
	case encoding != compressZstd:
		return nil, fmt.Errorf("%w: unknown compression %d", ErrMalformed, encoding)
	case size > uint64(fr.maxSize):
		return nil, Errorf(CodeResourceExhausted, "a compressed value of %d bytes exceeds the limit of %d", size, fr.maxSize)
	}
	if uint64(cap(fr.zbuf)) < size {
		if err := fr.charge(int(size) - cap(fr.zbuf)); err != nil {
			return nil, err
		}
		fr.zbuf = make([]byte, 0, size)
	}
	_, dec := zstdCodecs()
	out, err := dec.DecodeAll(d.b, fr.zbuf[:0:size])
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: compressed value: %w", ErrMalformed, err)
	case uint64(len(out)) != size:
		return nil, fmt.Errorf("%w: a compressed value of %d bytes said to have %d", ErrMalformed, len(out), size)
	}
	return out, nil
}
