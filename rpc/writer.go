package rpc

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/qtalkkit/qtalk/mux"
)

// A frameWriter builds frames in a pooled buffer and writes them with one
// Write. Every frame rpc sends, of every kind, is built by one; only the
// long byte slices of writeValue skip its buffer.
type frameWriter struct {
	pooled *[]byte // returned to bufPool by writeTo or release
	b      []byte
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func newFrameWriter() frameWriter {
	p := bufPool.Get().(*[]byte)
	return frameWriter{pooled: p, b: (*p)[:0]}
}

// call appends a CALL frame carrying h.
func (w *frameWriter) call(h *callHeader) {
	start := len(w.b)
	w.b = finishFrame(h.append(appendFrameHeader(w.b, frameCall)), start)
}

// message appends a MESSAGE frame carrying h: the header of one-way
// messages.
func (w *frameWriter) message(h *callHeader) {
	start := len(w.b)
	w.b = finishFrame(h.append(appendFrameHeader(w.b, frameMessage)), start)
}

// reply appends a REPLY frame: the reply header, with e nil for success;
// compress says the server takes compressed values.
func (w *frameWriter) reply(cont, compress bool, e *Error) {
	start := len(w.b)
	w.b = finishFrame(appendReplyHeader(appendFrameHeader(w.b, frameReply), cont, compress, e), start)
}

// value appends a VALUE frame holding v encoded with c, or a COMPRESSED
// frame if the encoding has zmin bytes or more and compresses (zmin 0:
// never). If c fails, it appends nothing.
func (w *frameWriter) value(c Codec, v any, zmin int) error {
	start := len(w.b)
	var b []byte
	var err error
	if m, ok := v.(RawMarshaler); ok {
		var p []byte
		if p, ok, err = m.MarshalRaw(c); ok {
			b = append(appendFrameHeader(w.b, frameValue), p...)
		}
	}
	if b == nil && err == nil {
		b, err = c.Append(appendFrameHeader(w.b, frameValue), v)
	}
	if err != nil {
		return err
	}
	w.b = finishFrame(b, start)
	w.compressFrame(start, zmin)
	return nil
}

// encoded appends a VALUE frame holding a value encoded already.
func (w *frameWriter) encoded(p []byte) {
	start := len(w.b)
	w.b = finishFrame(append(appendFrameHeader(w.b, frameValue), p...), start)
}

// error appends a frame of kind carrying e: an ERROR or a CANCEL frame.
func (w *frameWriter) error(kind byte, e *Error) {
	start := len(w.b)
	w.b = finishFrame(appendError(appendFrameHeader(w.b, kind), e), start)
}

// end appends an END frame.
func (w *frameWriter) end() {
	w.b = finishFrame(appendFrameHeader(w.b, frameEnd), len(w.b))
}

// writeTo writes the frames to dst in one Write and releases the buffer.
func (w *frameWriter) writeTo(dst io.Writer) (int, error) {
	n, err := dst.Write(w.b)
	w.release()
	return n, err
}

// release returns the buffer to the pool; w must not be used after.
func (w *frameWriter) release() {
	*w.pooled = w.b[:0]
	bufPool.Put(w.pooled)
	w.pooled, w.b = nil, nil
}

// writeError writes one frame carrying e: of kind frameError or
// frameCancel, or an error reply for kind frameReply.
func writeError(dst io.Writer, kind byte, e *Error) error {
	w := newFrameWriter()
	if kind == frameReply {
		w.reply(false, false, e)
	} else {
		w.error(kind, e)
	}
	_, err := w.writeTo(dst)
	return err
}

// writeValue writes a VALUE frame holding v encoded with c, compressed
// from zmin bytes as frameWriter.value does. A long byte slice, with a
// BytesCodec and shorter than zmin if zmin is not 0, is written from the
// caller's memory after the frame header and the encoding's head,
// instead of being copied.
func writeValue(ch mux.Channel, c Codec, v any, zmin int) error {
	if p, ok := v.([]byte); ok && len(p) >= directWriteMin && (zmin <= 0 || len(p) < zmin) {
		if bc, ok := c.(BytesCodec); ok {
			return writeBytes(ch, bc, p)
		}
	}
	w := newFrameWriter()
	if err := w.value(c, v, zmin); err != nil {
		w.release()
		return Errorf(CodeInvalidArgument, "encode %s value: %w", c.Name(), err)
	}
	_, err := w.writeTo(ch)
	return err
}

// directWriteMin is the length from which writeValue writes a byte slice
// from the caller's memory: past the cost of a second Write.
const directWriteMin = 4 << 10

// writeBytes writes a VALUE frame holding p encoded with c, exactly as
// c.Append encodes it: the frame header and the encoding's head, then p,
// in one write if ch is a mux.BuffersWriter, else in two.
func writeBytes(ch mux.Channel, c BytesCodec, p []byte) error {
	// One allocation for both: they escape through the interface call.
	m := new(struct {
		head [frameHeaderLen + maxBytesHead]byte
		bufs [2][]byte
	})
	b := c.AppendBytesHead(appendFrameHeader(m.head[:0], frameValue), len(p))
	if len(b) > len(m.head) {
		return Errorf(CodeInternal, "the %s codec's head of a byte string has %d bytes, more than %d", c.Name(), len(b)-frameHeaderLen, maxBytesHead)
	}
	binary.BigEndian.PutUint32(b[1:], uint32(len(b)-frameHeaderLen+len(p)))
	m.bufs = [2][]byte{b, p}
	if bw, ok := ch.(mux.BuffersWriter); ok {
		_, err := bw.WriteBuffers(m.bufs[:])
		return err
	}
	for _, b := range m.bufs {
		if _, err := ch.Write(b); err != nil {
			return err
		}
	}
	return nil
}
