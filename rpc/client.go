package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/internal/backoff"
	"github.com/qtalkkit/qtalk/mux"
)

// Metadata is a call's string key/value pairs, sent in the call header.
type Metadata map[string]string

// A Client makes calls over a mux.Session, one channel per call. It is
// safe for concurrent use.
type Client struct {
	sess         mux.Session
	codec        Codec
	maxFrameSize int
	ready        chan mux.Channel // channels opened ahead of calls
	opening      atomic.Int32     // opens under way to fill ready
	interceptors []Interceptor    // wrap every call (WithInterceptors)
	legacy       bool             // calls in the older framing (WithLegacyFraming)
	openRetries  int              // refused opens a call retries (WithOpenRetries)
	compressMin  int              // WithCompression's threshold; 0 without it
	peerTakes    atomic.Bool      // the server said it takes compressed values (flagCompress)

	sendMu  sync.Mutex
	senders map[senderKey]*sender // guarded by sendMu: the channels of one-way messages
}

// DefaultOpenAhead is the most channels a client keeps open ahead of its
// calls, so that a call need not wait for the round trip of an open.
const DefaultOpenAhead = 2

// DefaultOpenRetries is how many times a call whose channel the peer
// refused to open (its accept backlog full: mux.ErrOpenRejected) opens
// another before it fails with CodeUnavailable.
const DefaultOpenRetries = 8

// openRetryPolicy spaces the retries of refused opens: about 1 s in all
// for DefaultOpenRetries, time for a peer's backlog to drain, each wait
// spread by jitter so that refused callers do not come back together.
var openRetryPolicy = backoff.Policy{Min: 5 * time.Millisecond, Max: 250 * time.Millisecond}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithCodec sets the codec of the client's calls (default CBOR).
func WithCodec(c Codec) ClientOption { return func(cl *Client) { cl.codec = c } }

// WithMaxFrameSize bounds the frames the client accepts (default
// DefaultMaxFrameSize).
func WithMaxFrameSize(n int) ClientOption { return func(cl *Client) { cl.maxFrameSize = n } }

// WithOpenAhead sets the most channels the client keeps open ahead of its
// calls (default DefaultOpenAhead; 0 opens each call's channel when the
// call starts): overlapping calls keep up to n, calls one at a time one.
// The server sees them as calls that have not begun yet.
func WithOpenAhead(n int) ClientOption {
	return func(cl *Client) { cl.ready = make(chan mux.Channel, max(n, 0)) }
}

// WithLegacyFraming makes the client call in the older qtalk rpc framing
// of the qtalk-go lineage (spec/rpc.md, section 12), for servers that
// speak only that. It selects JSON, the older programs' default codec; a
// WithCodec after it selects another (CBOR is the other one a qtalk
// server recognises in that framing). The older framing carries no
// deadline, metadata or error code (the client reads a code back from an
// error text that starts with its name), cancels a call only by closing
// its channel, has no one-way messages (Send fails), and ends a stream
// with EOF (CloseSend half-closes the channel).
func WithLegacyFraming() ClientOption {
	return func(cl *Client) { cl.legacy, cl.codec = true, JSON }
}

// WithOpenRetries sets how many times a call retries an open the peer
// refused (default DefaultOpenRetries; 0 fails the call at the first
// refusal). The retries back off exponentially with jitter, within the
// call's ctx.
func WithOpenRetries(n int) ClientOption {
	return func(cl *Client) { cl.openRetries = max(n, 0) }
}

// WithCompression makes the client take compressed values (zstd) and
// compress its own values whose encoding has min bytes or more (0 selects
// DefaultCompressMin), where the server takes them too: the client says
// so in every call header, and compresses the values it sends on a call
// once that call's reply said the server takes them, and its arguments
// once any reply on the session said so. The server compresses its
// values from its own threshold (Server.CompressMin). A decompressed
// value is bound by the frame limit (WithMaxFrameSize) as any value is.
// WithCallCompression turns it on or off for one call. See spec/rpc.md,
// section 13.
func WithCompression(min int) ClientOption {
	return func(cl *Client) { cl.compressMin = budget(min, DefaultCompressMin) }
}

// NewClient returns a client that calls over sess.
func NewClient(sess mux.Session, opts ...ClientOption) *Client {
	c := &Client{sess: sess, codec: CBOR, maxFrameSize: DefaultMaxFrameSize, openRetries: DefaultOpenRetries}
	c.ready = make(chan mux.Channel, DefaultOpenAhead)
	for _, o := range opts {
		o(c)
	}
	return c
}

// channel returns a channel for a call: one opened ahead if there is one
// (pooled), else a new one. It opens another ahead if it took the last
// one, or found none and none on its way: calls one at a time then keep
// one ahead, however many earlier calls that overlapped left, and
// overlapping calls up to the cap (WithOpenAhead). A channel more than the calls need would have
// the server wait on it too, which keeps an idle server's reading from
// the goroutine that serves the next call (qmux's read role).
func (c *Client) channel(ctx context.Context) (ch mux.Channel, pooled bool, err error) {
	select {
	case ch := <-c.ready:
		if len(c.ready) == 0 {
			c.openAhead(ctx)
		}
		return ch, true, nil
	default:
	}
	if c.opening.Load() == 0 {
		// None ahead and none on its way (a Session without OpenEarly
		// opens ahead in the background): open one for the next call.
		defer c.openAhead(ctx)
	}
	ch, err = c.sess.Open(ctx)
	return ch, false, err
}

// openAhead starts opening a channel if fewer than wanted are ready or
// being opened. Over a mux.EarlyOpener the open is sent at once, within
// the ctx of the call that asks for it, so that it goes out with the
// call's data; otherwise a goroutine waits for it, until the session ends
// at the latest.
func (c *Client) openAhead(ctx context.Context) {
	if int(c.opening.Load())+len(c.ready) >= cap(c.ready) {
		return
	}
	if eo, ok := c.sess.(mux.EarlyOpener); ok {
		if ch, err := eo.OpenEarly(ctx); err == nil {
			c.keepReady(ch)
		}
		return
	}
	c.opening.Add(1)
	go func() {
		defer c.opening.Add(-1)
		if ch, err := c.sess.Open(context.Background()); err == nil {
			c.keepReady(ch)
		}
	}()
}

// keepReady adds ch to the channels opened ahead, or closes it if they
// were filled meanwhile.
func (c *Client) keepReady(ch mux.Channel) {
	select {
	case c.ready <- ch:
	default:
		ch.Close()
	}
}

// Codec returns the codec of the client's calls.
func (c *Client) Codec() Codec { return c.codec }

// Session returns the session the client calls over.
func (c *Client) Session() mux.Session { return c.sess }

// CallOption sets per-call options.
type CallOption func(*callHeader)

// WithMetadata adds metadata to a call. The key "qtalk-compress" is
// reserved for compression (WithCompression) and not sent.
func WithMetadata(md Metadata) CallOption {
	return func(h *callHeader) { h.metadata = md }
}

// WithCallCompression turns compression on or off for one call, whatever
// the client's WithCompression says: on, the call's values are compressed
// as WithCompression describes (from DefaultCompressMin bytes if the
// client has no threshold of its own); off, the client neither sends nor
// takes compressed values on it.
func WithCallCompression(on bool) CallOption {
	return func(h *callHeader) { h.compress = on }
}

// compressMinOf returns the threshold of compression on a call with
// header h, 0 for none.
func (c *Client) compressMinOf(h *callHeader) int {
	switch {
	case !h.compress || c.legacy:
		return 0
	case c.compressMin > 0:
		return c.compressMin
	}
	return DefaultCompressMin
}

// Call calls selector with args and decodes the reply value into reply (a
// pointer, or nil to discard it). A nil *Response is returned with every
// error; errors the handler reported are *Error values. When the reply
// continues (a stream or a byte stream follows), the caller must Close
// the Response; otherwise it is already closed, and the same for every
// such call (its Continue is false, Close does nothing, and its other
// methods fail with mux.ErrChannelClosed): what the call used is
// recycled.
//
// The ctx bounds the whole call, a continued one included: its deadline
// travels to the server, and when ctx ends the call returns at once with
// ctx's error, while a CANCEL frame and the channel's close, sent after
// it, end the handler's context.
func (c *Client) Call(ctx context.Context, selector string, args, reply any, opts ...CallOption) (*Response, error) {
	if len(c.interceptors) > 0 {
		return c.intercepted(ctx, selector, args, reply, opts)
	}
	return c.call(ctx, selector, args, reply, opts...)
}

// call is Call without the interceptors.
func (c *Client) call(ctx context.Context, selector string, args, reply any, opts ...CallOption) (*Response, error) {
	r := responses.Get().(*Response)
	*r = Response{codec: c.codec, ctx: ctx}
	r.h = callHeader{selector: selector, codec: c.codec.Name(), compress: c.compressMin > 0}
	if d, ok := ctx.Deadline(); ok {
		r.h.timeout = max(time.Until(d), 1)
	}
	for _, o := range opts {
		o(&r.h)
	}
	var refusedOpens *backoff.Backoff // made at the first refused open
	zmin := c.compressMinOf(&r.h)
	r.h.compress = zmin > 0
	for attempts := 0; ; {
		ch, pooled, err := c.channel(ctx)
		if err != nil {
			if errors.Is(err, mux.ErrOpenRejected) {
				if err = c.refusedOpen(ctx, &refusedOpens, err); err == nil {
					continue
				}
			}
			return nil, callError(ctx, err)
		}
		r.ch = ch
		r.fr = frameReader{r: ch, maxSize: c.maxFrameSize, legacy: c.legacy, compressed: zmin > 0}
		r.zmin = 0
		if zmin > 0 && c.peerTakes.Load() {
			r.zmin = zmin // the arguments too
		}
		if ctx.Done() != nil {
			r.stop = context.AfterFunc(ctx, func() {
				if r.raw.Load() || c.legacy {
					ch.Close() // no frames inside a raw byte stream, nor CANCEL in the older framing
					return
				}
				// The call returns now; the CANCEL may wait for the
				// channel (up to cancelWriteTimeout), and this callback
				// closes the channel once it is written (see Close).
				ch.SetReadDeadline(time.Now())
				cancelCall(ch, ctx.Err())
			})
		}
		err = r.call(&r.h, args, reply)
		if r.peerTakes {
			r.zmin = zmin
			c.peerTakes.Store(true)
		}
		if !r.Continue && r.stopWatch() {
			// ctx ended during the call: report that, whatever came back.
			err = ctx.Err()
		}
		switch {
		case err == nil:
			if !r.Continue {
				// Nothing refers to r any more: the callback of ctx,
				// if any, was stopped before it ran (else err is set).
				r.Close()
				*r = Response{}
				responses.Put(r)
				return doneResponse, nil
			}
			return r, nil
		case errors.Is(err, mux.ErrOpenRejected):
			// The peer refused the open of a channel opened ahead
			// (mux.EarlyOpener): none of the call reached the server.
			r.Close()
			if err = c.refusedOpen(ctx, &refusedOpens, err); err == nil {
				r.reset()
				continue
			}
		case (isRefused(err) || pooled && !r.sent) && ctx.Err() == nil && attempts < 2:
			// The server refused the call unprocessed, or closed the
			// channel opened ahead before any of the call was sent (say,
			// it shut down idle channels): the call can go on a new one.
			attempts++
			r.Close()
			r.reset()
			continue
		}
		r.Close()
		return nil, callError(ctx, err)
	}
}

// refusedOpen decides what follows an open the peer refused (err): nil
// after a backoff wait when the call may open another channel, else the
// error the call fails with: CodeUnavailable wrapping err once the
// retries are spent, or ctx's error if it ended meanwhile. *b counts the
// refusals of the call; it is made at the first.
func (c *Client) refusedOpen(ctx context.Context, b **backoff.Backoff, err error) error {
	if *b == nil {
		*b = openRetryPolicy.New()
	}
	if (*b).Attempt() >= c.openRetries {
		return NewError(CodeUnavailable, fmt.Errorf("call: the peer refused %d opens: %w", (*b).Attempt()+1, err))
	}
	return (*b).Wait(ctx)
}

// reset readies r for another attempt of its call on a new channel.
func (r *Response) reset() {
	r.closed, r.sent, r.Continue, r.stop, r.watchRan, r.peerTakes = false, false, false, nil, false, false
}

// stopWatch stops the callback that cancels the call when its ctx ends,
// and reports whether it ran, in which case the callback closes the
// channel.
func (r *Response) stopWatch() (ran bool) {
	if r.stop != nil {
		r.watchRan = !r.stop()
		r.stop = nil
	}
	return r.watchRan
}

// isRefused reports whether err is a reply refusing the call unprocessed.
// (A function of its own: the target of errors.As escapes, which costs an
// allocation wherever it is declared, even when err is nil.)
func isRefused(err error) bool {
	var rerr *Error
	return errors.As(err, &rerr) && rerr.refused
}

// cancelWriteTimeout bounds the wait to send a last frame (a CANCEL, or
// a forwarded call's ERROR) on a channel whose window is full: it matters
// only when the peer does not read. It starts once the frame is encoded
// and is generous, so that a write that need not wait does not fail
// because its goroutine was descheduled on a loaded machine (10 ms did:
// TestForwardUpstreamDies then saw a bare EOF instead of unavailable).
const cancelWriteTimeout = 250 * time.Millisecond

// writeLast writes one frame carrying e, of kind frameError or
// frameCancel, giving up after cancelWriteTimeout if ch cannot take it.
func writeLast(ch mux.Channel, kind byte, e *Error) error {
	w := newFrameWriter()
	w.error(kind, e)
	ch.SetWriteDeadline(time.Now().Add(cancelWriteTimeout))
	_, err := w.writeTo(ch)
	return err
}

// cancelCall tells the server why the call ends (a CANCEL frame with
// cause's code), then closes the channel, which also cancels the call
// when the frame could not be sent.
func cancelCall(ch mux.Channel, cause error) {
	writeLast(ch, frameCancel, &Error{Code: CodeOf(cause), Message: cause.Error()})
	ch.Close()
}

// callError reports ctx's error when the call failed because ctx ended.
func callError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return NewError(CodeOf(ctx.Err()), fmt.Errorf("rpc: call: %w", ctx.Err()))
	}
	return err
}

// exchange writes the frames of a call in w, which it releases, and reads the first frame of
// the reply. It reads even if the write failed: a server that refused the
// call (say, arguments over its frame limit) says why before closing.
func (r *Response) exchange(w frameWriter) (kind byte, payload []byte, err error) {
	n, werr := w.writeTo(r.ch)
	r.sent = n > 0
	kind, payload, err = r.fr.next()
	switch {
	case err == nil:
		return kind, payload, nil
	case werr != nil:
		return 0, nil, werr
	case err == io.EOF:
		return 0, nil, Errorf(CodeUnavailable, "the server closed the call without replying")
	}
	return 0, nil, err
}

func (r *Response) call(h *callHeader, args, reply any) error {
	if r.fr.legacy {
		return r.legacyCall(h, args, reply)
	}
	w := newFrameWriter()
	w.call(h)
	if err := w.value(r.codec, args, r.zmin); err != nil {
		w.release()
		return Errorf(CodeInvalidArgument, "encode %s arguments: %w", r.codec.Name(), err)
	}
	kind, p, err := r.exchange(w)
	if err != nil {
		return err
	}
	if kind != frameReply {
		return fmt.Errorf("%w: got frame kind %d, want a reply header", ErrMalformed, kind)
	}
	flags, rerr, err := parseReplyHeader(p)
	switch {
	case err != nil:
		return err
	case rerr != nil:
		return rerr
	}
	r.Continue = flags&flagContinue != 0
	r.peerTakes = flags&flagCompress != 0 && h.compress
	if err := receive(&r.fr, r.codec, reply); err != nil {
		if err == io.EOF || err == errEndOfStream {
			return fmt.Errorf("%w: reply header without a value", ErrMalformed)
		}
		return err
	}
	return nil
}

// responses recycles the Responses of calls whose reply did not
// continue: Call returns doneResponse for them.
var responses = sync.Pool{New: func() any { return new(Response) }}

// doneResponse is the Response of every call whose reply did not
// continue: closed, and never changed (its methods check for it first).
var doneResponse = &Response{closed: true}

// A Response is the reply to a call. When Continue is set, the channel
// stays open: use Send and Receive to stream values, or Conn for the raw
// bytes that follow, and Close when done.
type Response struct {
	Continue bool

	ctx   context.Context
	ch    mux.Channel
	codec Codec
	h     callHeader
	fr    frameReader
	stop  func() bool // stops the callback that cancels the call when ctx ends
	raw   atomic.Bool // Conn was called: the channel carries raw bytes
	sent  bool        // some of the call reached the channel

	closed   bool
	watchRan bool // the callback of ctx ran: it closes the channel (see stopWatch)

	zmin      int  // the threshold of compressing the values sent; 0 for none
	peerTakes bool // the reply said the server takes compressed values
}

// Receive decodes the next value the server sent into v (a pointer, or
// nil to discard it). It returns io.EOF after the server's last value and
// the server's error if it ended the stream with one.
func (r *Response) Receive(v any) error {
	if r == doneResponse {
		return mux.ErrChannelClosed
	}
	err := receive(&r.fr, r.codec, v)
	switch {
	case err == errEndOfStream:
		return io.EOF
	case err != nil && r.ctx != nil && r.ctx.Err() != nil:
		// The call's ctx ended, which closed the channel: say so.
		return NewError(CodeOf(r.ctx.Err()), fmt.Errorf("rpc: receive: %w", r.ctx.Err()))
	}
	return err
}

// cancelError is what receive returns for a CANCEL frame.
type cancelError struct{ reason *Error }

func (e *cancelError) Error() string { return e.reason.Error() }

// errEndOfStream is what receive returns for an END frame, which the
// callers report as io.EOF.
var errEndOfStream = errors.New("rpc: end of stream")

// receive decodes the next value frame from fr. A long encoded []byte of
// a BytesCodec decoded into a *[]byte bypasses the frame buffer (nextBytes).
func receive(fr *frameReader, c Codec, v any) error {
	if b, ok := v.(*[]byte); ok {
		if bc, ok := c.(BytesCodec); ok {
			if done, err := fr.nextBytes(bc, b); done {
				return err
			}
		}
	}
	kind, p, err := fr.next()
	if err != nil {
		return err
	}
	switch kind {
	case frameValue:
		return decodeValue(c, p, v)
	case frameCompressed:
		if p, err = fr.inflate(p); err != nil {
			return err
		}
		return decodeValue(c, p, v)
	case frameEnd:
		return errEndOfStream
	case frameError, frameCancel:
		rerr, err := parseErrorFrame(p)
		if err != nil {
			return err
		}
		if kind == frameCancel {
			return &cancelError{rerr}
		}
		return rerr
	}
	return fmt.Errorf("%w: unexpected frame kind %d", ErrMalformed, kind)
}

// Send sends v to the server on a continued call.
func (r *Response) Send(v any) error {
	if r == doneResponse {
		return mux.ErrChannelClosed
	}
	if r.fr.legacy {
		return writeLegacyValue(r.ch, r.codec, v)
	}
	return writeValue(r.ch, r.codec, v, r.zmin)
}

// CloseSend tells the server that no more values follow: its Receive
// returns io.EOF. (On the raw byte stream of Conn, use its CloseWrite.)
func (r *Response) CloseSend() error {
	if r == doneResponse {
		return mux.ErrChannelClosed
	}
	if r.fr.legacy {
		return r.ch.CloseWrite()
	}
	w := newFrameWriter()
	w.end()
	_, err := w.writeTo(r.ch)
	return err
}

// Conn returns the call's channel as a raw byte stream, starting with any
// bytes that arrived after the reply value.
func (r *Response) Conn() mux.Channel {
	if r == doneResponse {
		return closedChannel{}
	}
	r.raw.Store(true)
	return newRawConn(r.ch, &r.fr)
}

// Close ends the call and closes its channel.
func (r *Response) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.stopWatch() {
		// The callback closes the channel once it has sent the CANCEL.
		r.fr.release()
		return nil
	}
	err := r.ch.Close()
	r.fr.release()
	return err
}
