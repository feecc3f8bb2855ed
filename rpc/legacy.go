package rpc

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/qtalkkit/qtalk/mux"
)

// The older qtalk rpc framing (spec/rpc.md, section 12), which programs of
// the qtalk-go lineage speak: every value is a uint32 big-endian length
// and the codec's bytes; a call is the header {"Selector": ...} and the
// arguments, a reply the header {"Error": string or null, "Continue":
// bool} and the reply value. There are no frame kinds, deadlines,
// metadata, error codes, END or CANCEL frames. A server tells such a call
// from its first byte (legacyStart); a client speaks it with
// WithLegacyFraming.

const legacyHeaderLen = 4

// legacyCallHeader is the first value of a call in the older framing.
type legacyCallHeader struct {
	Selector string
}

// legacyReplyHeader is the first value of a reply in the older framing.
type legacyReplyHeader struct {
	Error    *string
	Continue bool
}

// nextLegacy returns the next value of the older framing, as a VALUE
// frame; its length is checked against the limit before it is read.
func (fr *frameReader) nextLegacy() (kind byte, payload []byte, err error) {
	if err := fr.fill(legacyHeaderLen); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(fr.buf[fr.start:])
	if uint64(n) > uint64(fr.maxSize) {
		return 0, nil, Errorf(CodeResourceExhausted, "frame of %d bytes exceeds the limit of %d", n, fr.maxSize)
	}
	if err := fr.fill(legacyHeaderLen + int(n)); err != nil {
		return 0, nil, err
	}
	payload = fr.buf[fr.start+legacyHeaderLen : fr.start+legacyHeaderLen+int(n)]
	fr.start += legacyHeaderLen + int(n)
	return frameValue, payload, nil
}

// legacyStart reports whether the channel starts with a value of the
// older framing: its first byte is the high byte of a length, 0 for any
// call header shorter than 16 MiB, where a qtalk frame starts with its
// kind, never 0.
func (fr *frameReader) legacyStart() (bool, error) {
	if err := fr.fill(1); err != nil {
		return false, err
	}
	return fr.buf[fr.start] == 0, nil
}

// legacyCodec returns the codec of a call in the older framing from its
// header: CBOR if it is a CBOR map, else JSON, the older programs' default.
func legacyCodec(header []byte) Codec {
	if len(header) > 0 && header[0]>>5 == 5 {
		return CBOR
	}
	return JSON
}

// readLegacyRequest reads the header and the arguments of a call in the
// older framing.
func (c *Call) readLegacyRequest() error {
	c.legacy, c.fr.legacy = true, true
	c.codec = JSON // the error reply of a malformed header
	_, p, err := c.fr.next()
	if err != nil {
		return err
	}
	c.codec = legacyCodec(p)
	var h legacyCallHeader
	if err := c.codec.Unmarshal(p, &h); err != nil {
		return fmt.Errorf("%w: call header of the older framing: %w", ErrMalformed, err)
	}
	c.Selector, c.FullSelector = h.Selector, h.Selector
	_, p, err = c.fr.next()
	if err == io.EOF {
		return fmt.Errorf("%w: the call ended before its arguments: %w", ErrMalformed, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	c.args, c.hasArgs = p, true
	return nil
}

// legacyValue appends a value of the older framing holding v encoded with
// c. If c fails, it appends nothing.
func (w *frameWriter) legacyValue(c Codec, v any) error {
	start := len(w.b)
	b, err := c.Append(append(w.b, 0, 0, 0, 0), v)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-legacyHeaderLen))
	w.b = b
	return nil
}

// legacyReply appends a reply header of the older framing, with e nil for
// success; an error reply is followed by a null value, as older servers
// send it.
func (w *frameWriter) legacyReply(c Codec, cont bool, e *Error) {
	h := legacyReplyHeader{Continue: cont}
	if e != nil {
		msg := legacyErrorText(e)
		h.Error = &msg
	}
	w.legacyValue(c, h) // a struct of a string and a bool always encodes
	if e != nil {
		w.legacyValue(c, nil)
	}
}

// writeLegacyValue writes a value of the older framing.
func writeLegacyValue(ch mux.Channel, c Codec, v any) error {
	w := newFrameWriter()
	if err := w.legacyValue(c, v); err != nil {
		w.release()
		return Errorf(CodeInvalidArgument, "encode %s value: %w", c.Name(), err)
	}
	_, err := w.writeTo(ch)
	return err
}

// writeLegacyError writes an error reply of the older framing.
func writeLegacyError(ch mux.Channel, c Codec, e *Error) error {
	w := newFrameWriter()
	w.legacyReply(c, false, e)
	_, err := w.writeTo(ch)
	return err
}

// legacyErrorText is the error string of the older framing's reply
// header: the code's name, a colon and the message, which parseLegacyError
// reads back.
func legacyErrorText(e *Error) string {
	if e.Message == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + e.Message
}

// parseLegacyError returns the error of an older reply header: with the
// code it starts with, if it names one, else CodeUnknown and the text.
func parseLegacyError(s string) *Error {
	name, msg, _ := strings.Cut(s, ": ")
	for code, n := range codeNames {
		if n == name && code != int(CodeOK) {
			return &Error{Code: Code(code), Message: msg}
		}
	}
	return &Error{Code: CodeUnknown, Message: s}
}

// legacyCall sends a call in the older framing and reads its reply.
func (r *Response) legacyCall(h *callHeader, args, reply any) error {
	w := newFrameWriter()
	if err := w.legacyValue(r.codec, legacyCallHeader{Selector: h.selector}); err != nil {
		w.release()
		return Errorf(CodeInvalidArgument, "encode %s call header: %w", r.codec.Name(), err)
	}
	if err := w.legacyValue(r.codec, args); err != nil {
		w.release()
		return Errorf(CodeInvalidArgument, "encode %s arguments: %w", r.codec.Name(), err)
	}
	_, p, err := r.exchange(w)
	if err != nil {
		return err
	}
	var rh legacyReplyHeader
	if err := r.codec.Unmarshal(p, &rh); err != nil {
		return fmt.Errorf("%w: reply header of the older framing: %w", ErrMalformed, err)
	}
	if rh.Error != nil {
		return parseLegacyError(*rh.Error)
	}
	r.Continue = rh.Continue
	if err := receive(&r.fr, r.codec, reply); err != nil {
		if err == io.EOF {
			return fmt.Errorf("%w: reply header without a value", ErrMalformed)
		}
		return err
	}
	return nil
}
