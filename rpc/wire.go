package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Frame kinds. Every frame on a call's channel is a kind byte, a uint32
// big-endian payload length and the payload (spec/rpc.md).
const (
	frameCall    = 1 // client to server, first: the call header
	frameReply   = 2 // server to client, first: the reply header
	frameValue   = 3 // a value encoded with the call's codec
	frameError   = 4 // ends a stream with an error
	frameEnd     = 5 // ends the sender's stream of values; the channel stays open
	frameCancel  = 6 // client to server, last: why the client is closing the call
	frameMessage = 7 // client to server, first: the call header of one-way messages
)

const frameHeaderLen = 5

// DefaultMaxFrameSize bounds a frame's payload unless configured otherwise.
const DefaultMaxFrameSize = 4 << 20

// Reply header flags.
const (
	flagContinue = 1 << 0 // the channel stays open after the reply value
	flagError    = 1 << 1 // the header carries an error and no value follows
	flagRefused  = 1 << 2 // with flagError: the call was not processed, so it may be sent again
)

// callHeader is the payload of a CALL frame.
type callHeader struct {
	selector string
	codec    string
	timeout  time.Duration // 0: no deadline
	metadata Metadata
	compress bool // the client takes compressed values: the metadata pair compressKey (compress.go)
}

// appendFrameHeader appends a frame header whose length is patched by
// finishFrame once the payload is appended.
func appendFrameHeader(b []byte, kind byte) []byte {
	return append(b, kind, 0, 0, 0, 0)
}

// finishFrame sets the length of the frame that starts at b[start:].
func finishFrame(b []byte, start int) []byte {
	binary.BigEndian.PutUint32(b[start+1:], uint32(len(b)-start-frameHeaderLen))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (h *callHeader) append(b []byte) []byte {
	b = appendString(b, h.selector)
	b = appendString(b, h.codec)
	b = binary.AppendUvarint(b, uint64(max(h.timeout, 0)))
	n := len(h.metadata)
	if _, ok := h.metadata[compressKey]; ok {
		n-- // reserved: only compress says it
	}
	if h.compress {
		n++
		b = binary.AppendUvarint(b, uint64(n))
		b = appendString(b, compressKey)
		b = appendString(b, compressName)
	} else {
		b = binary.AppendUvarint(b, uint64(n))
	}
	for k, v := range h.metadata {
		if k != compressKey {
			b = appendString(b, k)
			b = appendString(b, v)
		}
	}
	return b
}

// decoder reads the fields of a header payload, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad integer in header", ErrMalformed)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: string of %d bytes overruns the header", ErrMalformed, n)
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) string() string { return string(d.bytes()) }

// A nameCache interns the selectors and codec names of call headers, so
// that a call of a name seen before allocates no string for it. It holds
// at most maxCachedNames names of at most maxCachedNameLen bytes; when
// full, it takes no more, and other names cost an allocation per call
// as without it (a peer sending made-up names cannot grow it). The zero
// value is empty and ready; a nil cache interns nothing.
type nameCache struct {
	mu    sync.RWMutex // guards names
	names map[string]string
}

const (
	maxCachedNames   = 256
	maxCachedNameLen = 128
)

func (nc *nameCache) intern(b []byte) string {
	if nc == nil || len(b) == 0 || len(b) > maxCachedNameLen {
		return string(b)
	}
	nc.mu.RLock()
	s, ok := nc.names[string(b)] // a lookup that does not allocate
	nc.mu.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if len(nc.names) < maxCachedNames {
		if nc.names == nil {
			nc.names = make(map[string]string)
		}
		nc.names[s] = s
	}
	return s
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = fmt.Errorf("%w: header too short", ErrMalformed)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d bytes after the header", ErrMalformed, len(d.b))
	}
	return d.err
}

// maxPresizedMetadata bounds the pairs a call's metadata map is sized for
// before they are read.
const maxPresizedMetadata = 16

// parseCallHeader parses a CALL payload, taking the selector and the
// codec name from names when it holds them.
func parseCallHeader(p []byte, names *nameCache) (callHeader, error) {
	d := decoder{b: p}
	h := callHeader{selector: names.intern(d.bytes()), codec: names.intern(d.bytes())}
	timeout := d.uvarint()
	if timeout > uint64(1<<63-1) {
		d.err = fmt.Errorf("%w: timeout out of range", ErrMalformed)
	}
	h.timeout = time.Duration(timeout)
	n := d.uvarint()
	if n > uint64(len(d.b))/2 { // each pair takes at least two bytes
		d.err = fmt.Errorf("%w: %d metadata pairs overrun the header", ErrMalformed, n)
	}
	if d.err != nil {
		n = 0
	}
	for range n {
		k := d.string()
		v := d.string()
		if k == compressKey {
			h.compress = v == compressName
			continue
		}
		if h.metadata == nil {
			// Sized for a few pairs at most: the map grows with the
			// pairs that are there, not with a count a peer declares
			// (2 bytes of header per pair, all of them the same empty
			// key, would otherwise size a map of millions from a 4 MiB
			// frame).
			h.metadata = make(Metadata, min(n, maxPresizedMetadata))
		}
		h.metadata[k] = v
	}
	return h, d.end()
}

// appendReplyHeader appends a reply header payload; err is nil for
// success. compress sets flagCompress (spec/rpc.md, section 13).
func appendReplyHeader(b []byte, cont, compress bool, err *Error) []byte {
	var flags byte
	if cont {
		flags |= flagContinue
	}
	if compress {
		flags |= flagCompress
	}
	if err != nil {
		flags |= flagError
		if err.refused {
			flags |= flagRefused
		}
	}
	b = append(b, flags)
	if err != nil {
		b = appendError(b, err)
	}
	return b
}

func appendError(b []byte, err *Error) []byte {
	b = binary.AppendUvarint(b, uint64(err.Code))
	b = appendString(b, err.Message)
	b = binary.AppendUvarint(b, uint64(len(err.Details)))
	return append(b, err.Details...)
}

func (d *decoder) error() *Error {
	e := &Error{Code: Code(d.uvarint()), Message: d.string()}
	if details := d.bytes(); len(details) > 0 {
		e.Details = append([]byte(nil), details...)
	}
	return e
}

// parseReplyHeader returns the reply's flags and its error, if any.
func parseReplyHeader(p []byte) (flags byte, rerr *Error, err error) {
	d := decoder{b: p}
	flags = d.byte()
	if flags&^(flagContinue|flagError|flagRefused|flagCompress) != 0 || flags&(flagError|flagRefused) == flagRefused {
		d.err = fmt.Errorf("%w: unknown reply flags %#x", ErrMalformed, flags)
	}
	if flags&flagError != 0 {
		rerr = d.error()
		rerr.refused = flags&flagRefused != 0
	}
	return flags, rerr, d.end()
}

func parseErrorFrame(p []byte) (*Error, error) {
	d := decoder{b: p}
	e := d.error()
	return e, d.end()
}

// frameReader reads frames from a channel through a buffer it owns. Bytes
// read past the last frame stay buffered, so a raw byte stream that
// follows the frames loses nothing (see rawConn).
type frameReader struct {
	r       io.Reader
	buf     []byte
	start   int // buf[start:end] is read but not consumed
	end     int
	maxSize int
	legacy  bool // the frames are the older framing's: every one a value (legacy.go)

	compressed bool   // COMPRESSED frames are taken (this side said so)
	zbuf       []byte // the last value inflate decompressed

	mem  *frameMemory // charged with buf and zbuf; nil for no budget
	held int          // what this reader charged to mem
}

// next returns the next frame; its payload is valid until the next call.
func (fr *frameReader) next() (kind byte, payload []byte, err error) {
	if fr.legacy {
		return fr.nextLegacy()
	}
	if err := fr.fill(frameHeaderLen); err != nil {
		return 0, nil, err
	}
	h := fr.buf[fr.start:]
	kind = h[0]
	n := binary.BigEndian.Uint32(h[1:5])
	if uint64(n) > uint64(fr.maxSize) {
		return 0, nil, Errorf(CodeResourceExhausted, "frame of %d bytes exceeds the limit of %d", n, fr.maxSize)
	}
	if err := fr.fill(frameHeaderLen + int(n)); err != nil {
		return 0, nil, err
	}
	payload = fr.buf[fr.start+frameHeaderLen : fr.start+frameHeaderLen+int(n)]
	fr.start += frameHeaderLen + int(n)
	return kind, payload, nil
}

// fill reads until at least n unconsumed bytes are buffered, growing the
// buffer only up to what n needs.
func (fr *frameReader) fill(n int) error {
	if fr.end-fr.start >= n {
		return nil
	}
	if fr.start > 0 {
		fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
		fr.start = 0
	}
	for fr.end < n {
		if fr.end == len(fr.buf) {
			if err := fr.grow(n); err != nil {
				return err
			}
		}
		k, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += k
		if err != nil {
			if fr.end >= n {
				return nil
			}
			if err == io.EOF && fr.end > 0 {
				return errInsideFrame
			}
			return err
		}
	}
	return nil
}

var errInsideFrame = fmt.Errorf("%w: stream ended inside a frame: %w", ErrMalformed, io.ErrUnexpectedEOF)

// directReadMin is the payload length from which a VALUE frame holding
// one encoded []byte of a BytesCodec, decoded into a *[]byte, is read from
// the channel straight into the slice, rather than into the frame buffer
// first and copied from there: long values, such as the chunks of a
// stream, then cost one copy less, and the buffer stays small.
const directReadMin = 4 << 10

// nextBytes reads the next frame into *b if it is a VALUE frame of at
// least directReadMin bytes holding one []byte encoded by c, reusing the
// capacity of *b as cborCodec.Unmarshal does. For any other frame it
// returns done false, having consumed nothing; it reports errors as next
// does.
func (fr *frameReader) nextBytes(c BytesCodec, b *[]byte) (done bool, err error) {
	if fr.legacy {
		return false, nil
	}
	if err := fr.fill(frameHeaderLen); err != nil {
		return true, err
	}
	h := fr.buf[fr.start:fr.end]
	n := binary.BigEndian.Uint32(h[1:5])
	if h[0] != frameValue || n < directReadMin || uint64(n) > uint64(fr.maxSize) {
		return false, nil
	}
	if err := fr.fill(frameHeaderLen + maxBytesHead); err != nil {
		return true, err
	}
	head, size, ok := c.ParseBytesHead(fr.buf[fr.start+frameHeaderLen : fr.end])
	if !ok || head < 0 || uint64(head)+size != uint64(n) {
		return false, nil
	}
	fr.start += frameHeaderLen + head
	want := int(size)
	dst := (*b)[:0]
	if cap(dst) < want {
		// Capacity follows the bytes that came, as in grow.
		dst = make([]byte, 0, min(want, max(fr.end-fr.start, directReadMin)))
	}
	k := min(fr.end-fr.start, want)
	dst = append(dst, fr.buf[fr.start:fr.start+k]...)
	fr.start += k
	for len(dst) < want {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, min(want, 4*cap(dst))-len(dst))
		}
		k, err := fr.r.Read(dst[len(dst):min(cap(dst), want)])
		dst = dst[:len(dst)+k]
		if err != nil && len(dst) < want {
			if err == io.EOF {
				return true, errInsideFrame
			}
			return true, err
		}
	}
	*b = dst
	return true, nil
}

// smallFrameBuffers recycles the first buffer of frame readers: most calls
// need no other.
var smallFrameBuffers = sync.Pool{New: func() any { return new([smallFrameBuffer]byte) }}

const smallFrameBuffer = 2 << 10

// grow makes room in the buffer on the way to n bytes: at most four times
// what it holds, so that memory follows the bytes that came, not the
// length a peer declared (a header saying 4 MiB followed by nothing costs
// little), and a long frame costs a third more than its length in all.
// It fails, keeping the buffer, if the session's frame memory cannot
// take the new buffer.
func (fr *frameReader) grow(n int) error {
	size := smallFrameBuffer
	if fr.buf != nil {
		size = min(n, 4*len(fr.buf))
	}
	if err := fr.charge(size - len(fr.buf)); err != nil {
		return err
	}
	var buf []byte
	if fr.buf == nil {
		buf = smallFrameBuffers.Get().(*[smallFrameBuffer]byte)[:]
	} else {
		buf = make([]byte, size)
	}
	copy(buf, fr.buf[:fr.end])
	fr.recycle()
	fr.buf = buf
	return nil
}

// charge counts n more bytes (fewer if negative) held by the reader
// against the session's frame memory.
func (fr *frameReader) charge(n int) error {
	if fr.mem == nil {
		return nil
	}
	if err := fr.mem.charge(n); err != nil {
		return err
	}
	fr.held += n
	return nil
}

// recycle lets go of the reader's buffer, recycling it if it is the
// small one.
func (fr *frameReader) recycle() {
	if len(fr.buf) == smallFrameBuffer {
		smallFrameBuffers.Put((*[smallFrameBuffer]byte)(fr.buf))
	}
	fr.buf = nil
}

// release recycles the reader's buffers and gives back what they were
// charged; the reader must not be used after.
func (fr *frameReader) release() {
	fr.recycle()
	fr.zbuf = nil
	if fr.mem != nil && fr.held != 0 {
		fr.mem.charge(-fr.held)
		fr.held = 0
	}
}

// A frameMemory is the budget of the bytes that the frame readers of a
// session's calls hold at once (Server.MaxFrameMemory): their buffers,
// which grow with the frames that come, and the values decompressed from
// them.
type frameMemory struct {
	used  atomic.Int64
	limit int64
}

// ErrFrameMemory is matched by the error of a call that would take the
// bytes its session's calls hold in frames past Server.MaxFrameMemory.
var ErrFrameMemory = errors.New("rpc: the session's frame memory is full")

// charge adds n bytes, or fails without adding them if they do not fit;
// a negative n gives bytes back and never fails.
func (m *frameMemory) charge(n int) error {
	if used := m.used.Add(int64(n)); n > 0 && used > m.limit {
		m.used.Add(-int64(n))
		return Errorf(CodeResourceExhausted, "%w: a frame needs %d bytes more, its calls hold %d of %d", ErrFrameMemory, n, used-int64(n), m.limit)
	}
	return nil
}

// buffered returns a copy of the bytes read past the last frame and
// forgets them. A copy, because the buffer is recycled when the call ends.
func (fr *frameReader) buffered() []byte {
	var b []byte
	if fr.end > fr.start {
		b = append(b, fr.buf[fr.start:fr.end]...)
	}
	fr.start, fr.end = 0, 0
	return b
}
