package rpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
	"unsafe"

	"github.com/fxamacker/cbor/v2"
)

// appendValueFrame appends a VALUE frame carrying the CBOR encoding of v.
func appendValueFrame(t *testing.T, b []byte, v any) []byte {
	t.Helper()
	b, err := CBOR.Append(appendFrameHeader(b, frameValue), v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// frames builds a stream of frames, each appended by one function.
func frames(t *testing.T, appends ...func([]byte) []byte) []byte {
	t.Helper()
	var b []byte
	for _, f := range appends {
		start := len(b)
		b = finishFrame(f(b), start)
	}
	return b
}

// Long byte strings are read straight into the destination slice, and the
// frames after them read as before, whatever sizes the reads return.
func TestNextByteString(t *testing.T) {
	for _, n := range []int{directReadMin, 65535, 64 << 10, 70000} {
		want := bytes.Repeat([]byte{0xcd}, n)
		stream := frames(t,
			func(b []byte) []byte { return appendValueFrame(t, b, want) },
			func(b []byte) []byte { return appendValueFrame(t, b, want[:7]) },
			func(b []byte) []byte { return appendFrameHeader(b, frameEnd) },
		)
		for name, r := range map[string]io.Reader{
			"whole":    bytes.NewReader(stream),
			"one byte": iotest.OneByteReader(bytes.NewReader(stream)),
			"halves":   iotest.HalfReader(bytes.NewReader(stream)),
		} {
			fr := frameReader{r: r, maxSize: DefaultMaxFrameSize}
			got := make([]byte, 0, n)
			p := &got[:1][0]
			if done, err := fr.nextBytes(cborCodec{}, &got); !done || err != nil {
				t.Fatalf("%d bytes, %s: done %v, %v", n, name, done, err)
			}
			if !bytes.Equal(got, want) || &got[0] != p {
				t.Fatalf("%d bytes, %s: read %d bytes, capacity reused: %v", n, name, len(got), &got[0] == p)
			}
			var fresh []byte // a nil slice gets a new one, as from Unmarshal
			if err := receive(&fr, CBOR, &fresh); err != nil || !bytes.Equal(fresh, want[:7]) {
				t.Fatalf("%d bytes, %s: the next frame gave %x, %v", n, name, fresh, err)
			}
			if err := receive(&fr, CBOR, &fresh); err != errEndOfStream {
				t.Fatalf("%d bytes, %s: got %v, want the end of the stream", n, name, err)
			}
			fr.release()
		}
	}
}

// Frames that are not one long byte string are left to next, unread.
func TestNextByteStringDeclines(t *testing.T) {
	long := bytes.Repeat([]byte{1}, directReadMin)
	cases := map[string][]byte{
		"short frame":    frames(t, func(b []byte) []byte { return appendValueFrame(t, b, long[:directReadMin-4]) }),
		"text string":    frames(t, func(b []byte) []byte { return appendValueFrame(t, b, string(long)) }),
		"array":          frames(t, func(b []byte) []byte { return appendValueFrame(t, b, [][]byte{long}) }),
		"trailing bytes": frames(t, func(b []byte) []byte { return append(appendValueFrame(t, b, long), 0) }),
		"error frame": frames(t, func(b []byte) []byte {
			return appendError(appendFrameHeader(b, frameError), &Error{Code: CodeInternal, Message: string(long)})
		}),
	}
	for name, stream := range cases {
		fr := frameReader{r: bytes.NewReader(stream), maxSize: DefaultMaxFrameSize}
		b := []byte{}
		if done, err := fr.nextBytes(cborCodec{}, &b); done || err != nil {
			t.Fatalf("%s: done %v, %v", name, done, err)
		}
		kind, p, err := fr.next()
		if err != nil || frameHeaderLen+len(p) != len(stream) || kind != stream[0] {
			t.Fatalf("%s: then next gave kind %d, %d bytes, %v", name, kind, len(p), err)
		}
		fr.release()
	}
}

// A stream that ends inside a long byte string is malformed; one over the
// frame limit is refused before anything is read into the slice.
func TestNextByteStringErrors(t *testing.T) {
	long := bytes.Repeat([]byte{1}, 3*directReadMin)
	stream := frames(t, func(b []byte) []byte { return appendValueFrame(t, b, long) })
	fr := frameReader{r: bytes.NewReader(stream[:len(stream)-1]), maxSize: DefaultMaxFrameSize}
	var got []byte
	done, err := fr.nextBytes(cborCodec{}, &got)
	if !done || !errors.Is(err, ErrMalformed) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: done %v, %v", done, err)
	}

	fr = frameReader{r: bytes.NewReader(stream), maxSize: 2 * directReadMin}
	got = nil
	err = receive(&fr, CBOR, &got)
	if CodeOf(err) != CodeResourceExhausted || got != nil {
		t.Fatalf("over the limit: %d bytes, %v", len(got), err)
	}
}

// What the direct read gives is what the library decodes.
func TestNextByteStringMatchesLibrary(t *testing.T) {
	want := bytes.Repeat([]byte{0x5a}, 5000)
	stream := frames(t, func(b []byte) []byte { return appendValueFrame(t, b, want) })
	var lib []byte
	if err := cbor.Unmarshal(stream[frameHeaderLen:], &lib); err != nil {
		t.Fatal(err)
	}
	fr := frameReader{r: bytes.NewReader(stream), maxSize: DefaultMaxFrameSize}
	var got []byte
	if err := receive(&fr, CBOR, &got); err != nil || !bytes.Equal(got, lib) {
		t.Fatalf("got %d bytes, %v; the library gives %d", len(got), err, len(lib))
	}
}

// The name cache hands back the string it holds for a name seen before,
// holds at most maxCachedNames names, and no long one: a peer sending
// made-up names cannot grow it.
func TestNameCache(t *testing.T) {
	var nc nameCache
	first := nc.intern([]byte("echo"))
	if again := nc.intern([]byte("echo")); again != "echo" || unsafe.StringData(again) != unsafe.StringData(first) {
		t.Errorf("second intern of echo: %q, not the cached string", again)
	}
	if n := testing.AllocsPerRun(100, func() { nc.intern([]byte("echo")) }); n != 0 {
		t.Errorf("intern of a cached name: %.0f allocations, want 0", n)
	}
	long := bytes.Repeat([]byte("x"), maxCachedNameLen+1)
	if s := nc.intern(long); s != string(long) {
		t.Errorf("long name interned as %q", s)
	}
	for i := range 2 * maxCachedNames {
		name := fmt.Appendf(nil, "name%d", i)
		if s := nc.intern(name); s != string(name) {
			t.Fatalf("intern(%q) = %q", name, s)
		}
	}
	if len(nc.names) != maxCachedNames {
		t.Errorf("the cache holds %d names, want its bound %d", len(nc.names), maxCachedNames)
	}
	var none *nameCache
	if s := none.intern([]byte("echo")); s != "echo" {
		t.Errorf("a nil cache interned echo as %q", s)
	}
}

// TestDeclaredLengthCostsNothing: a frame that declares the largest length
// allowed and then stops costs memory for the bytes that came, not for the
// length: a peer cannot make the reader allocate 4 MiB with a few bytes,
// in a byte string read straight into its slice or in any other frame.
func TestDeclaredLengthCostsNothing(t *testing.T) {
	const declared = DefaultMaxFrameSize
	long := bytes.Repeat([]byte{7}, declared-5) // with its 5-byte CBOR head, the frame holds declared bytes
	whole := frames(t, func(b []byte) []byte { return appendValueFrame(t, b, long) })
	if n := len(whole) - frameHeaderLen; n != declared {
		t.Fatalf("the frame declares %d bytes, want %d", n, declared)
	}
	sent := whole[:frameHeaderLen+100] // the header, the CBOR head and a few bytes of the value
	for name, read := range map[string]func(fr *frameReader) error{
		"byte string": func(fr *frameReader) error {
			var b []byte
			_, err := fr.nextBytes(cborCodec{}, &b)
			return err
		},
		"frame": func(fr *frameReader) error {
			_, _, err := fr.next()
			return err
		},
	} {
		var err error
		allocated := allocatedBy(func() {
			fr := frameReader{r: bytes.NewReader(sent), maxSize: DefaultMaxFrameSize}
			err = read(&fr)
			fr.release()
		})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: %v, want the stream ended inside the frame", name, err)
		}
		if allocated > 64<<10 {
			t.Errorf("%s: %d bytes allocated for a frame declaring %d of which 100 came", name, allocated, declared)
		}
	}
}

// allocatedBy returns the bytes f allocated (and any other goroutine
// meanwhile: the test runs alone).
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
