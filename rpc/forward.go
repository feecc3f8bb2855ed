package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// Forwarding: a handler hands a call over to another session, as a proxy
// does. See Forward.

var (
	// ErrAnswered is matched by the errors Forward returns once it has
	// answered the call: the upstream's reply went back to the client, so
	// the handler must neither answer (Responder methods then do nothing
	// but fail) nor forward the call again. The error says how the
	// forwarded call ended; CodeOf gives its code.
	ErrAnswered = errors.New("rpc: forwarded call answered")

	// ErrNotStarted is matched by the errors Forward returns when the
	// upstream cannot have started the call: the channel could not be
	// opened or the call could not be written. Such a call can be sent
	// elsewhere whatever it does; the call is not answered.
	ErrNotStarted = errors.New("rpc: forwarded call not started")
)

// A ForwardOption configures Forward.
type ForwardOption func(*forwardOptions)

type forwardOptions struct {
	onReply func()
}

// OnReply makes Forward call f once the upstream has replied without an
// error, just before the reply goes to the client: from then on the call
// is answered. A stream can last long after; f marks the point where the
// upstream is known to work.
func OnReply(f func()) ForwardOption {
	return func(o *forwardOptions) { o.onReply = f }
}

// Forward forwards the call c to upstream as a call of selector, at the
// channel level, so that whatever the call carries crosses unchanged. It
// opens a channel on upstream and writes a new call header (selector, the
// call's codec and Metadata, and the time left before the earlier of the
// call's and ctx's deadlines) and the call's arguments as received. Once
// the upstream replies, Forward copies its reply and everything after it
// to the client and everything the client sends after its arguments to
// the upstream, byte for byte, until the forwarded call ends: unary
// calls, streams in either direction, raw byte streams, END and CANCEL
// frames and half-closes (CloseWrite) all cross as they are. A chain of
// proxies forwards the same way at every hop.
//
// A unary call whose reply came whole with its header is over once the
// reply is written to the client: Forward then returns without waiting
// for the upstream's close of the channel, as a client does once it has
// read a reply, and the write is bounded as a handler's reply is
// (Server.WriteTimeout).
//
// Forward must be called by the handler of c with the Responder it got
// (or a wrapper with an Unwrap() Responder method), before the handler
// reads from the call or answers it. It returns once the forwarded call is
// over; the handler then just returns.
//
// What Forward returns tells the handler what to do:
//
//   - nil: the call was forwarded and answered, and ended normally;
//   - an error matching ErrAnswered: the call was answered and then ended
//     abnormally (the upstream failed, ctx ended, the client went away);
//     the handler has nothing left to do;
//   - any other error: the call is not answered, and is as it was, so the
//     handler can answer it (r.Error(err)) or forward it again. This is
//     the case when the upstream replied with an error (Forward returns
//     that *Error: r.Error sends the client the very same bytes), when
//     the upstream did not reply, and, with an error that matches
//     ErrNotStarted too, when the call could not be sent at all.
//
// Failures of the upstream (its session ended, the channel closed
// without a reply) have CodeUnavailable. When ctx or the call's context
// ends, the upstream's call is cancelled with a CANCEL frame, as a client
// would, and the error has the code of the context error. If the upstream
// fails after replying, in the middle of a stream of values, the client
// gets an ERROR frame with CodeUnavailable instead of a clean end of the
// stream, provided the stream is at a frame boundary; to know where the
// frames are, Forward follows the frames of both directions as they pass
// and takes a stream that stops looking like frames for a raw byte
// stream, which it never writes into. The client's CANCEL frames need no
// such care: they are forwarded like the rest.
//
// Forward opens a channel of its own for every call, and waits for the
// upstream to answer the open before it sends the call: a proxy that
// forwards to the same upstream often should use Client.Forward instead.
func Forward(ctx context.Context, r Responder, c *Call, upstream mux.Session, selector string, opts ...ForwardOption) error {
	return forward(ctx, r, c, upstream, nil, selector, opts)
}

// Forward forwards the call c as the package-level Forward does, to the
// client's session, on a channel the client opened ahead (see
// WithOpenAhead) when it has one: the call then goes out at once instead
// of after the round trip of an open. The client's codec does not apply:
// the call keeps its own.
func (cl *Client) Forward(ctx context.Context, r Responder, c *Call, selector string, opts ...ForwardOption) error {
	return forward(ctx, r, c, cl.sess, cl, selector, opts)
}

// forward forwards c to upstream: on a channel that ahead opened ahead of
// calls if ahead is not nil and has one, else on a new one.
func forward(ctx context.Context, r Responder, c *Call, upstream mux.Session, ahead *Client, selector string, opts []ForwardOption) error {
	resp := responseOf(r)
	switch {
	case resp == nil || resp.call != c:
		return Errorf(CodeInternal, "rpc: Forward needs the Responder the Server gave with the call")
	case resp.responded:
		return fmt.Errorf("%w: %w", ErrAnswered, errAlreadyResponded)
	case !c.hasArgs:
		return Errorf(CodeInternal, "rpc: Forward after Receive: the arguments are gone")
	case c.legacy:
		return Errorf(CodeUnimplemented, "rpc: a call in the older framing is not forwarded")
	case resp.oneWay && ahead == nil:
		return Errorf(CodeUnimplemented, "rpc: a one-way message is forwarded with Client.Forward, which keeps the messages in order")
	case resp.oneWay:
		return ahead.forwardMessage(ctx, resp, c, selector)
	}
	// The forwarded call ends with ctx or with the call: a context of
	// its own ends with both, unless ctx is the call's, as it is for a
	// proxy that sets no timeout of its own (then the hooks below go on
	// the call's context itself, which costs less).
	if ctx != c.Context() {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		stopCall := afterFunc(c.Context(), func() { cancel(c.Context().Err()) })
		defer stopCall()
	}
	if ctx.Err() != nil {
		return contextError(ctx)
	}

	f := &forwarder{c: c, resp: resp, ctx: ctx}
	for _, opt := range opts {
		opt(&f.opts) // in f, which is on the heap anyway
	}
	cont, err := f.start(upstream, ahead, selector)
	if err != nil {
		return err
	}
	if f.opts.onReply != nil {
		f.opts.onReply()
	}
	return f.splice(cont)
}

// afterFunc is context.AfterFunc, which on a call's own context (as ctx
// is unless a proxy sets a timeout) would wrap f in a cancelable context
// of its own: the call's context hooks f itself, with the same behaviour.
func afterFunc(ctx context.Context, f func()) (stop func() bool) {
	if cc, ok := ctx.(*callContext); ok {
		return cc.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}

// responseOf finds the server's response behind r.
func responseOf(r Responder) *response {
	for {
		switch v := r.(type) {
		case *response:
			return v
		case interface{ Unwrap() Responder }:
			r = v.Unwrap()
		default:
			return nil
		}
	}
}

// contextError reports the end of ctx as an *Error with its code.
func contextError(ctx context.Context) *Error {
	err := ctx.Err()
	if _, ok := ctx.(*callContext); !ok {
		// A call's context has no cause of its own: context.Cause
		// would find its parent's.
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
	}
	return NewError(CodeOf(err), fmt.Errorf("rpc: forward: %w", err))
}

// forwarder is one forwarded call.
type forwarder struct {
	c    *Call
	resp *response
	ctx  context.Context
	opts forwardOptions
	up   mux.Channel
	fr   frameReader // the upstream's frames, up to its reply header
	// replyLen is the length of the reply header frame, the last frame fr read.
	replyLen int

	// Set while splicing.
	upload     frameTracker // what the client sends the upstream
	download   frameTracker // what the upstream sends the client
	clientGone atomic.Bool  // the client's channel failed
}

// start opens the upstream's channel, sends the call and reads the
// upstream's reply header. It returns with the call unanswered unless it
// returns the continue flag of a successful reply.
func (f *forwarder) start(upstream mux.Session, ahead *Client, selector string) (cont bool, err error) {
	c := f.c
	// The upstream's values reach the client as they are: they may be
	// compressed if the client takes compressed values.
	h := callHeader{selector: selector, codec: c.codec.Name(), metadata: c.Metadata, compress: c.takesZ}
	deadline, ok := f.ctx.Deadline()
	if cd := c.ctx.deadline; !cd.IsZero() && (!ok || cd.Before(deadline)) {
		deadline, ok = cd, true
	}
	if ok {
		h.timeout = max(time.Until(deadline), 1)
	}
	var up mux.Channel
	var stop func() bool
	var werr error
	for pooled := ahead != nil; ; pooled = false {
		if pooled {
			up, pooled, err = ahead.channel(f.ctx)
		} else {
			up, err = upstream.Open(f.ctx)
		}
		if err != nil {
			if f.ctx.Err() != nil {
				return false, fmt.Errorf("%w: %w", ErrNotStarted, contextError(f.ctx))
			}
			return false, fmt.Errorf("%w: %w", ErrNotStarted, unavailable("open a channel upstream", err))
		}
		// Until the reply, cancelling is what a client does.
		ch := up
		stop = afterFunc(f.ctx, func() { cancelCall(ch, context.Cause(f.ctx)) })
		w := newFrameWriter()
		w.call(&h)
		w.encoded(c.args)
		var n int
		n, werr = w.writeTo(ch)
		if werr == nil || n > 0 || !pooled || !stop() {
			break
		}
		// The channel opened ahead was gone before any of the call was
		// sent (the upstream closed it, say, as idle): open a new one.
		up.Close()
	}
	f.up = up

	// Read the reply even if the write failed: an upstream that refused
	// the call (its arguments over its frame limit) says why.
	f.fr = frameReader{r: up, maxSize: c.fr.maxSize}
	kind, p, err := f.fr.next()
	if !stop() {
		err = context.Cause(f.ctx) // cancelCall closes the channel
	}
	fail := func(err error) (bool, error) {
		up.Close()
		f.fr.release()
		return false, err
	}
	switch {
	case f.ctx.Err() != nil:
		return fail(contextError(f.ctx))
	case err != nil && werr != nil:
		return fail(fmt.Errorf("%w: %w", ErrNotStarted, unavailable("send the call upstream", werr)))
	case err == io.EOF:
		return fail(Errorf(CodeUnavailable, "rpc: forward: the upstream closed the call without replying"))
	case channelFailed(err):
		return fail(unavailable("read the upstream's reply", err))
	case err != nil:
		return fail(err)
	case kind != frameReply:
		return fail(fmt.Errorf("%w: the upstream sent frame kind %d, want a reply header", ErrMalformed, kind))
	}
	f.replyLen = frameHeaderLen + len(p)
	flags, rerr, err := parseReplyHeader(p)
	switch {
	case err != nil:
		return fail(err)
	case rerr != nil:
		return fail(rerr)
	}
	if flags&flagCompress != 0 && !c.fr.compressed {
		// The client's values after its arguments reach the upstream as
		// they are, but its arguments of later calls come here: this
		// server does not take compressed values, so it does not say so.
		p[0] &^= flagCompress
	}
	return flags&flagContinue != 0, nil
}

// unavailable reports a failure of the upstream.
func unavailable(what string, err error) *Error {
	return NewError(CodeUnavailable, fmt.Errorf("rpc: forward: %s: %w", what, err))
}

// splice answers the call with the upstream's reply, whose header f.fr
// just read, and copies both ways until the forwarded call ends.
func (f *forwarder) splice(cont bool) error {
	c, up := f.c, f.up
	defer up.Close()

	// Take the client's channel over: from here on its bytes are copied,
	// not read as frames.
	f.resp.responded = true
	pending := c.takeRaw()
	if c.ctx.Err() != nil {
		// The client cancelled or closed the call just before: its CANCEL
		// frame is consumed, so cancel the upstream's call here.
		f.fr.release()
		cancelCall(up, c.ctx.Err())
		return fmt.Errorf("%w: %w", ErrAnswered, NewError(CodeOf(c.ctx.Err()), fmt.Errorf("rpc: forward: %w", c.ctx.Err())))
	}

	// The reply header and what the upstream sent after it, in one write.
	out := f.fr.buf[f.fr.start-f.replyLen : f.fr.end]
	if !cont && isOneValue(out[f.replyLen:], c.fr.maxSize) {
		// A unary reply, whole (it came in the read of its header): the
		// call is over once it is written, as it is for a client once it
		// read it, without waiting for the upstream's close of the
		// channel. The write is the server's reply, bounded as a
		// handler's is (Server.WriteTimeout): no copy is under way, so
		// there is nothing for the call's end to stop.
		c.beginWrite()
		_, werr := c.ch.Write(out)
		f.fr.release()
		switch err := c.endWrite(werr); {
		case err == nil:
			return nil
		case err == errWriteStalled:
			return fmt.Errorf("%w: %w", ErrAnswered, err)
		default:
			return fmt.Errorf("%w: %w", ErrAnswered, Errorf(CodeCanceled, "rpc: forward: the client went away"))
		}
	}
	f.download = frameTracker{maxSize: c.fr.maxSize, allowed: valueKinds, next: replyNext(cont)}
	f.upload = frameTracker{maxSize: c.fr.maxSize, allowed: uploadKinds, next: uploadNext}
	n, werr := c.ch.Write(out)
	if n > f.replyLen {
		f.download.feed(out[f.replyLen:n])
	}
	f.fr.release()

	// Whatever ends the call stops both copies, through deadlines.
	fired := make(chan struct{})
	stop := afterFunc(f.ctx, func() {
		now := time.Now()
		c.ch.SetDeadline(now)
		up.SetDeadline(now)
		close(fired)
	})

	uploaded := make(chan error, 1)
	if cont {
		go func() { uploaded <- f.copyUp(pending) }()
	} else {
		// A reply that does not continue ends the call: nothing the
		// client sends after its arguments has anywhere to go (a CANCEL
		// would come after the upstream's handler returned), so a unary
		// call needs no copy up, nor the goroutine of one.
		uploaded <- nil
	}

	var upEOF bool
	var upErr error
	if werr == nil {
		upEOF, upErr, werr = f.copyDown()
	}
	if !stop() && f.ctx.Err() != nil {
		<-fired // the deadlines are set: later ones are not undone
	}
	switch {
	case f.ctx.Err() != nil:
		return f.abort(uploaded, contextError(f.ctx))
	case f.clientGone.Load() || werr != nil:
		return f.abort(uploaded, Errorf(CodeCanceled, "rpc: forward: the client went away"))
	case upErr != nil:
		return f.abort(uploaded, unavailable("the upstream failed", upErr))
	case upEOF && !writesEnded(up):
		// The upstream half-closed a raw stream, or closed the call and
		// its close is yet to arrive: pass the EOF on and go on copying
		// the client's bytes until it ends them too, or the close comes.
		c.ch.CloseWrite()
		// The hook above is stopped: end the rest of the upload the same
		// way if ctx ends (a timeout, the client's cancel) before it does.
		stopUp := afterFunc(f.ctx, func() {
			now := time.Now()
			c.ch.SetReadDeadline(now)
			up.SetWriteDeadline(now)
		})
		select {
		case err := <-uploaded:
			stopUp()
			if err != nil && f.ctx.Err() != nil {
				return fmt.Errorf("%w: %w", ErrAnswered, contextError(f.ctx))
			}
			return nil
		case <-writeDone(up):
			stopUp()
		}
	}
	// The upstream closed the call: its handler returned, and so is the
	// call over, as if this server's handler had returned.
	f.stopUpload(uploaded)
	if !f.download.atBoundary() {
		return fmt.Errorf("%w: %w", ErrAnswered, Errorf(CodeUnavailable, "rpc: forward: the upstream closed the call inside a frame"))
	}
	return nil
}

// writeDone returns the channel that is closed once ch can no longer be
// written: the peer closed it, rather than only ending its bytes with
// CloseWrite, or this side ended its own (mux.WriteDoneChannel). It is
// nil, which never delivers, for a channel that cannot tell.
func writeDone(ch mux.Channel) <-chan struct{} {
	if wd, ok := ch.(mux.WriteDoneChannel); ok {
		return wd.WriteDone()
	}
	return nil
}

// writesEnded reports whether the writes of ch are known to be over.
func writesEnded(ch mux.Channel) bool {
	select {
	case <-writeDone(ch):
		return true
	default:
		return false
	}
}

// stopUpload stops the copy to the upstream and waits for it.
func (f *forwarder) stopUpload(uploaded <-chan error) {
	now := time.Now()
	f.c.ch.SetReadDeadline(now)
	f.up.SetWriteDeadline(now)
	<-uploaded
}

// copyBuffers recycles the buffers of the copies.
var copyBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// copyDown copies the upstream's bytes to the client until the
// upstream's EOF, a read error (upErr) or a write error (werr).
func (f *forwarder) copyDown() (upEOF bool, upErr, werr error) {
	c, up := f.c, f.up
	buf := copyBuffers.Get().(*[32 << 10]byte)
	defer copyBuffers.Put(buf)
	for {
		n, err := up.Read(buf[:])
		if n > 0 {
			w, werr := c.ch.Write(buf[:n])
			f.download.feed(buf[:w])
			if werr != nil {
				return false, nil, werr
			}
		}
		switch {
		case err == io.EOF:
			return true, nil, nil
		case err != nil:
			return false, err, nil
		}
	}
}

// copyUp copies the client's bytes to the upstream, first pending, until
// the client's EOF (passed on with CloseWrite) or an error, which it
// returns. A failing client channel (not a deadline set to stop the copy)
// makes the download stop too.
func (f *forwarder) copyUp(pending []byte) error {
	c, up := f.c, f.up
	if len(pending) > 0 {
		n, err := up.Write(pending)
		f.upload.feed(pending[:n])
		if err != nil {
			return err
		}
	}
	buf := copyBuffers.Get().(*[32 << 10]byte)
	defer copyBuffers.Put(buf)
	for {
		n, err := c.ch.Read(buf[:])
		if n > 0 {
			w, werr := up.Write(buf[:n])
			f.upload.feed(buf[:w])
			if werr != nil {
				return werr
			}
		}
		switch {
		case err == io.EOF:
			up.CloseWrite()
			return nil
		case err != nil:
			if !isTimeout(err) && f.ctx.Err() == nil {
				f.clientGone.Store(true)
				up.SetReadDeadline(time.Now()) // stop the download
			}
			return err
		}
	}
}

// isTimeout reports whether err is a read or write past a deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// abort ends a forwarded call that did not end normally: it stops the
// upload, cancels the upstream's call with a CANCEL frame if the upload
// is at a frame boundary, and ends the client's stream with an ERROR
// frame carrying cause if the download is at one.
func (f *forwarder) abort(uploaded <-chan error, cause *Error) error {
	c, up := f.c, f.up
	f.stopUpload(uploaded)
	if f.upload.canInsert() {
		writeLast(up, frameCancel, &Error{Code: cancelCode(cause.Code), Message: cause.Message})
	}
	up.Close()
	if f.download.canInsert() && cause.Code != CodeCanceled {
		writeLast(c.ch, frameError, cause)
	}
	return fmt.Errorf("%w: %w", ErrAnswered, cause)
}

// isOneValue reports whether p holds exactly one value frame (VALUE or
// COMPRESSED) of at most maxSize bytes, whole.
func isOneValue(p []byte, maxSize int) bool {
	if len(p) < frameHeaderLen || kindBit(p[0])&valueKinds == 0 {
		return false
	}
	n := binary.BigEndian.Uint32(p[1:frameHeaderLen])
	return uint64(n) <= uint64(maxSize) && len(p) == frameHeaderLen+int(n)
}

// cancelCode is the code of a CANCEL frame for an abort of code.
func cancelCode(code Code) Code {
	if code == CodeDeadlineExceeded {
		return code
	}
	return CodeCanceled
}

// A frameTracker follows the frames of a stream that is copied as bytes,
// to know where a frame may be inserted. It expects the kinds in allowed;
// anything else (or a length over maxSize) makes it take the stream for a
// raw byte stream for good.
type frameTracker struct {
	raw     bool // the stream is not frames, or stopped looking like them
	ended   bool // the frames that may come are over (END, ERROR, ...)
	hdr     [frameHeaderLen]byte
	nhdr    int    // bytes of hdr read
	left    uint64 // payload bytes of the current frame to come
	kind    byte   // the current frame's kind
	allowed uint16 // the kinds the next frame may have
	maxSize int
	// next returns the kinds allowed after a frame of kind, and whether
	// the frames are over.
	next func(kind byte) (allowed uint16, ended bool)
}

func kindBit(kind byte) uint16 { return 1 << kind }

// valueKinds are the frames of a value: VALUE, or COMPRESSED.
const valueKinds = 1<<frameValue | 1<<frameCompressed

// The frames a client sends after its arguments: values, END, then
// CANCEL at any point, which is its last.
const uploadKinds = valueKinds | 1<<frameEnd | 1<<frameCancel

func uploadNext(kind byte) (uint16, bool) {
	switch kind {
	case frameEnd:
		return kindBit(frameCancel), false
	case frameCancel:
		return 0, true
	}
	return uploadKinds, false
}

// replyNext is the frames of the server after its reply header: the reply
// value, then, if the call continues, values ended by END or ERROR.
func replyNext(cont bool) func(byte) (uint16, bool) {
	return func(kind byte) (uint16, bool) {
		if !cont || kindBit(kind)&valueKinds == 0 {
			return 0, true
		}
		return valueKinds | 1<<frameError | 1<<frameEnd, false
	}
}

// feed follows p, the next bytes of the stream.
func (t *frameTracker) feed(p []byte) {
	for len(p) > 0 && !t.raw {
		if t.left > 0 {
			k := min(t.left, uint64(len(p)))
			t.left -= k
			p = p[k:]
			if t.left == 0 {
				t.frameDone()
			}
			continue
		}
		if t.ended {
			t.raw = true // bytes after the last frame
			return
		}
		k := copy(t.hdr[t.nhdr:], p)
		t.nhdr += k
		p = p[k:]
		if t.hdr[0] > frameCompressed || t.allowed&kindBit(t.hdr[0]) == 0 {
			t.raw = true
			return
		}
		if t.nhdr < frameHeaderLen {
			continue
		}
		t.nhdr = 0
		t.kind = t.hdr[0]
		n := binary.BigEndian.Uint32(t.hdr[1:])
		if uint64(n) > uint64(t.maxSize) {
			t.raw = true
			return
		}
		t.left = uint64(n)
		if n == 0 {
			t.frameDone()
		}
	}
}

func (t *frameTracker) frameDone() {
	t.allowed, t.ended = t.next(t.kind)
}

// atBoundary reports whether the stream is frames and between two.
func (t *frameTracker) atBoundary() bool { return !t.raw && t.nhdr == 0 && t.left == 0 }

// canInsert reports whether a frame may be inserted: the stream is
// between two frames and more may come.
func (t *frameTracker) canInsert() bool { return t.atBoundary() && !t.ended }
