package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// A Handler responds to calls.
type Handler interface {
	RespondRPC(Responder, *Call)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(Responder, *Call)

func (f HandlerFunc) RespondRPC(r Responder, c *Call) { f(r, c) }

// A Responder answers a call, exactly once: with Return, Error or Continue.
// A handler that returns without answering answers Return(nil). When the
// handler returns, the call ends and its channel is closed.
type Responder interface {
	// Return replies with v and ends the call.
	Return(v any) error
	// Error replies with err (see CodeOf for the code it travels with).
	Error(err error) error
	// Continue replies with v and keeps the channel open: the handler
	// streams with Send and Call.Receive, or takes the raw bytes with Conn.
	Continue(v any) error
	// Send sends a value on a continued call.
	Send(v any) error
	// Conn returns the channel of a continued call as a raw byte stream.
	Conn() mux.Channel
}

// A Call is an incoming call.
type Call struct {
	// Selector names what is called. Under a prefix pattern of a
	// RespondMux it is the part after the prefix.
	Selector string
	// FullSelector is the selector as the client sent it.
	FullSelector string
	// Metadata are the client's key/value pairs.
	Metadata Metadata
	// Caller calls back the client over the same session (the client must
	// serve calls too, as talk peers do).
	Caller *Client

	ctx     callContext
	ch      mux.Channel
	codec   Codec
	fr      frameReader
	timeout time.Duration
	args    []byte // the first value, decoded by the first Receive
	hasArgs bool
	ended   bool // the client ended its stream

	// The background read that notices the client cancelling or closing
	// the call. It only runs while the handler is not reading and someone
	// looks at the call's context: nothing else sees what it finds, and a
	// goroutine per call is a cost that most unary calls need not pay.
	watchMu      sync.Mutex
	wanted       bool // guarded by watchMu: the context's end was looked at
	watchable    bool // guarded by watchMu: the handler is not reading, and the next byte starts a frame
	running      bool // guarded by watchMu: the background read runs
	watching     sync.WaitGroup
	peek         [1]byte
	peeked       bool
	mode         atomic.Int32 // modeFramed, modeUndecided or modeRaw
	interrupting atomic.Bool  // stopWatch is ending the background read
}

// What the bytes from the client are. Until Continue, and after it once
// the handler used Send or Receive, they are frames; right after Continue
// they could be frames or a raw byte stream; after Conn they are raw.
const (
	modeFramed = iota
	modeUndecided
	modeRaw
)

// Context returns the call's context: it is cancelled when the client
// cancels or closes the call, its deadline passes, the session ends, or
// the handler returns.
func (c *Call) Context() context.Context { return &c.ctx }

// Session returns the session the call arrived on.
func (c *Call) Session() mux.Session { return c.Caller.Session() }

// Receive decodes the next value from the client into v (a pointer, or nil
// to discard it): first the call's arguments, then streamed values. It
// returns io.EOF once the client ended its stream (Response.CloseSend).
func (c *Call) Receive(v any) error {
	if c.hasArgs {
		c.hasArgs = false
		return decodeValue(c.codec, c.args, v)
	}
	if c.ended {
		return io.EOF
	}
	c.mode.CompareAndSwap(modeUndecided, modeFramed)
	err := receive(&c.fr, c.codec, v)
	var cancel *cancelError
	switch {
	case errors.As(err, &cancel):
		c.cancelled(cancel.reason)
		return cancel.reason
	case err == errEndOfStream:
		c.ended = true
		err = io.EOF
	case err == io.EOF:
		// Framed calls end their stream with an END frame: end of stream
		// on the channel means the client closed the call.
		c.clientClosed()
		return Errorf(CodeCanceled, "the client closed the call: %w", io.ErrUnexpectedEOF)
	case err != nil && CodeOf(err) == CodeUnknown:
		c.clientClosed() // the channel failed
		return err
	case err != nil:
		return err
	}
	c.startWatch()
	return err
}

// startWatch lets the background read run if the handler will not read
// next anyway (nothing is buffered, so the next byte starts a frame), and
// starts it if the context is looked at.
func (c *Call) startWatch() {
	if c.peeked || c.fr.end != c.fr.start {
		return
	}
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	c.watchable = true
	c.launchWatchLocked()
}

// wantWatch is called the first time the context's end is looked at: from
// then on the background read runs whenever the channel is watchable.
func (c *Call) wantWatch() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	c.wanted = true
	c.launchWatchLocked()
}

func (c *Call) launchWatchLocked() {
	if c.wanted && c.watchable && !c.running {
		c.running = true
		c.watching.Add(1)
		go c.watch()
	}
}

// claimReads takes the channel's reads for the handler: no background
// read starts until the next startWatch. It reports whether one runs.
func (c *Call) claimReads() (running bool) {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	c.watchable = false
	return c.running
}

// stopWatch ends the background read, if one runs, by expiring the read
// deadline; a byte it read stays for the next read.
func (c *Call) stopWatch() {
	if !c.claimReads() {
		return
	}
	c.interrupting.Store(true)
	c.ch.SetReadDeadline(time.Now())
	c.watching.Wait()
	c.ch.SetReadDeadline(time.Time{})
	c.interrupting.Store(false)
}

// deadlineSlack is how close to its deadline a call closed by the client
// counts as having exceeded it: clients close calls whose deadline passed,
// and that close can arrive just before the server's own timer fires.
const deadlineSlack = 10 * time.Millisecond

// cancelled cancels the call for the reason in the client's CANCEL frame.
func (c *Call) cancelled(reason *Error) {
	if reason.Code == CodeDeadlineExceeded {
		c.ctx.cancel(context.DeadlineExceeded)
		return
	}
	c.ctx.cancel(context.Canceled)
}

// clientClosed cancels the call because the client closed it.
func (c *Call) clientClosed() {
	if d := c.ctx.deadline; !d.IsZero() && time.Until(d) < deadlineSlack {
		c.ctx.cancel(context.DeadlineExceeded)
		return
	}
	c.ctx.cancel(context.Canceled)
}

// watch reads in the background while the handler is not reading, at a
// frame boundary, and the context is looked at: a CANCEL frame or an
// error (the client closed the channel, or the session died) cancels the
// call; any other byte means more frames are coming, and is handed to the
// next read.
func (c *Call) watch() {
	defer c.watching.Done()
	n, err := c.ch.Read(c.peek[:])
	switch {
	case n == 1 && c.peek[0] == frameCancel && c.mode.Load() == modeFramed:
		if reason, err := c.readCancel(); err == nil {
			c.cancelled(reason)
		} else {
			c.clientClosed()
		}
	case n == 1:
		c.peeked = true
	case err != nil && !c.interrupting.Load():
		c.clientClosed()
	}
	// Not running once what it found is recorded (stopWatch relies on
	// that); and a byte read, or an error, ends the frame boundary.
	c.watchMu.Lock()
	c.running, c.watchable = false, false
	c.watchMu.Unlock()
}

// maxCancelFrame bounds the CANCEL frames a server reads.
const maxCancelFrame = 1 << 10

// readCancel reads the rest of a CANCEL frame whose kind byte was read,
// exactly that frame and nothing after it.
func (c *Call) readCancel() (*Error, error) {
	var buf [maxCancelFrame]byte
	h := buf[:frameHeaderLen-1]
	if _, err := io.ReadFull(c.ch, h); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h)
	if n > maxCancelFrame {
		return nil, fmt.Errorf("%w: CANCEL frame of %d bytes", ErrMalformed, n)
	}
	p := buf[:n]
	if _, err := io.ReadFull(c.ch, p); err != nil {
		return nil, err
	}
	return parseErrorFrame(p)
}

// callReader reads the channel for the frame reader once the background
// read is done, starting with the byte it read.
type callReader struct{ c *Call }

func (r callReader) Read(p []byte) (int, error) {
	c := r.c
	c.claimReads()
	c.watching.Wait()
	if c.peeked && len(p) > 0 {
		c.peeked = false
		p[0] = c.peek[0]
		return 1, nil
	}
	return c.ch.Read(p)
}

// response implements Responder.
type response struct {
	call      *Call
	responded bool
	continued bool
}

func (r *response) reply(cont bool, v any) error {
	if r.responded {
		return errAlreadyResponded
	}
	r.responded = true
	c := r.call
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := finishFrame(appendReplyHeader(appendFrameHeader((*bp)[:0], frameReply), cont, nil), 0)
	start := len(b)
	b, err := c.codec.Append(appendFrameHeader(b, frameValue), v)
	if err != nil {
		r.responded = false
		return r.Error(Errorf(CodeInternal, "encode %s reply: %w", c.codec.Name(), err))
	}
	b = finishFrame(b, start)
	*bp = b
	_, err = c.ch.Write(b)
	return err
}

func (r *response) Return(v any) error { return r.reply(false, v) }

func (r *response) Continue(v any) error {
	if r.responded {
		return errAlreadyResponded
	}
	// Leave framed mode before the reply goes out: the client may answer
	// it at once with raw bytes, which must not be read as frames.
	c := r.call
	c.stopWatch()
	c.mode.Store(modeUndecided)
	err := r.reply(true, v)
	if r.responded {
		r.continued = true
	} else {
		c.mode.Store(modeFramed)
	}
	c.startWatch()
	return err
}

func (r *response) Error(err error) error {
	if r.continued {
		// The reply is out: the error ends the stream instead.
		return r.send(frameError, err)
	}
	if r.responded {
		return errAlreadyResponded
	}
	r.responded = true
	return writeReply(r.call.ch, asError(err))
}

// writeReply writes an error reply.
func writeReply(ch mux.Channel, e *Error) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := finishFrame(appendReplyHeader(appendFrameHeader((*bp)[:0], frameReply), false, e), 0)
	*bp = b
	_, err := ch.Write(b)
	return err
}

func (r *response) Send(v any) error {
	if !r.continued {
		return errNotContinued
	}
	if c := r.call; c.mode.Load() == modeUndecided {
		// The first Send decides that the call streams frames: restart
		// the background read, which now recognises a CANCEL frame.
		c.stopWatch()
		c.mode.Store(modeFramed)
		c.startWatch()
	}
	return r.send(frameValue, v)
}

// send writes a value or error frame on a continued call. A write that
// fails means the call is over: its context is cancelled.
func (r *response) send(kind byte, v any) error {
	c := r.call
	var err error
	if kind == frameError {
		err = writeErrorFrame(c.ch, asError(v.(error)))
	} else {
		err = send(c.ch, c.codec, kind, v)
	}
	if err != nil && CodeOf(err) == CodeUnknown {
		c.ctx.cancel(context.Canceled)
	}
	return err
}

// writeErrorFrame writes an ERROR frame carrying e.
func writeErrorFrame(ch mux.Channel, e *Error) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := finishFrame(appendError(appendFrameHeader((*bp)[:0], frameError), e), 0)
	*bp = b
	_, err := ch.Write(b)
	return err
}

func (r *response) Conn() mux.Channel {
	c := r.call
	if c.mode.Load() != modeRaw {
		c.stopWatch()
		c.mode.Store(modeRaw)
	}
	pending := c.fr.buffered()
	if c.peeked { // then nothing was buffered: the byte comes first
		c.peeked = false
		pending = append(pending, c.peek[0])
	}
	return &rawConn{Channel: c.ch, pending: pending}
}

var (
	errAlreadyResponded = errors.New("rpc: call already answered")
	errNotContinued     = errors.New("rpc: Send before Continue")

	// ErrServerClosed is returned by Serve and ServeSession after Shutdown.
	ErrServerClosed = errors.New("rpc: server closed")
)

// A Server serves calls on sessions with a Handler.
type Server struct {
	Handler      Handler
	MaxFrameSize int // default DefaultMaxFrameSize

	// BaseContext, if set, returns the context whose values the calls of
	// a session see (not its cancellation: calls end with their session).
	BaseContext func(mux.Session) context.Context

	// NewCaller, if set, returns the client that handlers of a session use
	// to call back (Call.Caller); by default NewClient(sess).
	NewCaller func(mux.Session) *Client

	// ErrorLog, if set, records handler panics with their stacks (clients
	// get only an internal error naming the panic value).
	ErrorLog *slog.Logger

	mu       sync.Mutex
	closing  bool
	stop     context.Context // cancelled by Shutdown: accept loops end
	stopFunc context.CancelFunc
	calls    sync.WaitGroup // calls in flight
	sessions sync.WaitGroup // sessions accepted by Serve
}

// SessionListener yields sessions; transport.Listener is one.
type SessionListener interface {
	Accept(ctx context.Context) (mux.Session, error)
	Close() error
}

func (s *Server) stopContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil {
		s.stop, s.stopFunc = context.WithCancel(context.Background())
	}
	return s.stop
}

// Serve accepts sessions from l and serves each until it ends, until
// Shutdown or l fails. After Shutdown it returns ErrServerClosed at once
// and closes l; each session is closed once its calls in flight are done.
func (s *Server) Serve(l SessionListener) error {
	stop := s.stopContext()
	defer l.Close()
	for {
		sess, err := l.Accept(stop)
		if err != nil {
			if stop.Err() != nil {
				return ErrServerClosed
			}
			return err
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			sess.Close()
			return ErrServerClosed
		}
		s.sessions.Add(1) // under mu, so never after Shutdown's Wait began
		s.mu.Unlock()
		go func() {
			defer s.sessions.Done()
			s.ServeSession(sess) // returns once the session's calls are done
			sess.Close()
		}()
	}
}

// ServeSession serves the calls opened on sess until it ends (returning
// why) or Shutdown (returning ErrServerClosed). Either way it returns once
// the session's calls in flight are done. It does not close sess.
func (s *Server) ServeSession(sess mux.Session) error {
	stop := s.stopContext()
	active := &activeCalls{calls: map[*Call]bool{}, base: context.Background()}
	if s.BaseContext != nil {
		active.base = s.BaseContext(sess)
	}
	var caller *Client
	if s.NewCaller != nil {
		caller = s.NewCaller(sess)
	} else {
		caller = NewClient(sess)
	}
	work := make(chan mux.Channel) // to an idle worker
	defer active.workers.Wait()
	defer close(work) // idle workers exit
	for {
		ch, err := sess.Accept(stop)
		if err != nil {
			if stop.Err() != nil {
				active.shutdown()
				return ErrServerClosed
			}
			active.end() // the session ended: so do its calls
			return err
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			refuse(ch)
			active.shutdown()
			return ErrServerClosed
		}
		s.calls.Add(1)
		s.mu.Unlock()
		select {
		case work <- ch:
		default:
			active.workers.Add(1)
			go s.serveCalls(active, caller, ch, work)
		}
	}
}

// maxIdleWorkers bounds the goroutines a session keeps waiting for calls.
const maxIdleWorkers = 16

// serveCalls serves ch, then the channels it gets from work, as long as
// fewer than maxIdleWorkers others wait for one. Reusing the goroutine
// spares each call a go statement and the growth of a new goroutine's
// stack to the depth a call needs.
func (s *Server) serveCalls(active *activeCalls, caller *Client, ch mux.Channel, work <-chan mux.Channel) {
	defer active.workers.Done()
	for {
		s.serveCall(active, caller, ch)
		if active.idleWorkers.Add(1) > maxIdleWorkers {
			active.idleWorkers.Add(-1)
			return
		}
		var ok bool
		ch, ok = <-work
		active.idleWorkers.Add(-1)
		if !ok {
			return
		}
	}
}

// Shutdown stops accepting sessions and calls and waits for the calls in
// flight to finish and the sessions Serve accepted to close, or for ctx
// to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopContext()
	s.mu.Lock()
	s.closing = true
	s.stopFunc()
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.calls.Wait()
		s.sessions.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// activeCalls tracks a session's calls: idle ones, whose channel was
// accepted but whose request has not come yet (clients open channels
// ahead of their calls), and begun ones. When the session ends, the begun
// calls are cancelled; on Shutdown, the idle channels are closed.
type activeCalls struct {
	base        context.Context // the parent of the calls' values
	workers     sync.WaitGroup  // the goroutines serving calls
	idleWorkers atomic.Int32    // workers waiting for a call
	mu          sync.Mutex
	calls       map[*Call]bool // true once the call began
	ended       bool           // the session ended
	closing     bool           // Shutdown: no call may begin
}

// add registers an idle call; false if the server is shutting down.
func (a *activeCalls) add(c *Call) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closing {
		return false
	}
	a.calls[c] = false
	return true
}

// begin marks c begun; false if it may not (the session ended or the
// server is shutting down).
func (a *activeCalls) begin(c *Call) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended || a.closing {
		return false
	}
	a.calls[c] = true
	return true
}

// isClosing reports whether the server is shutting down.
func (a *activeCalls) isClosing() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closing
}

func (a *activeCalls) remove(c *Call) {
	a.mu.Lock()
	delete(a.calls, c)
	a.mu.Unlock()
}

// end cancels the calls of a session that ended.
func (a *activeCalls) end() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended = true
	for c, begun := range a.calls {
		if begun {
			c.ctx.cancel(context.Canceled)
		}
	}
}

// shutdown refuses the calls of the idle channels and closes them; begun
// calls go on.
func (a *activeCalls) shutdown() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closing = true
	for c, begun := range a.calls {
		if !begun {
			refuse(c.ch)
		}
	}
}

// errRefused answers calls a server will not process; clients send them
// again on a new channel.
var errRefused = &Error{Code: CodeUnavailable, Message: "the server is shutting down", refused: true}

// refuse closes a channel on which no call began. The refusal first tells
// a client whose call is already on its way that the call was not
// processed and may be sent again.
func refuse(ch mux.Channel) {
	writeReply(ch, errRefused)
	ch.Close()
}

// serverCall is a call and its response, allocated together.
type serverCall struct {
	call Call
	resp response
}

func (s *Server) serveCall(active *activeCalls, caller *Client, ch mux.Channel) {
	defer s.calls.Done()
	sc := &serverCall{}
	c, r := &sc.call, &sc.resp
	r.call = c
	c.ch, c.Caller = ch, caller
	c.fr = frameReader{r: callReader{c}, maxSize: s.MaxFrameSize}
	if c.fr.maxSize == 0 {
		c.fr.maxSize = DefaultMaxFrameSize
	}
	defer c.fr.release()
	if !active.add(c) {
		refuse(ch)
		return
	}
	defer ch.Close()
	defer active.remove(c)
	// Until its request comes, the call is idle: a client may open
	// channels ahead of its calls, and Shutdown closes idle channels.
	if err := c.readRequest(); err != nil {
		if errors.Is(err, ErrMalformed) {
			err = NewError(CodeInvalidArgument, err)
		}
		r.Error(err)
		return
	}
	if !active.begin(c) {
		r.Error(errRefused)
		return
	}
	c.ctx.parent, c.ctx.call = active.base, c
	c.ctx.start(c.timeout)
	c.startWatch()
	s.respond(r, c)
	c.claimReads() // for good: the handler is done
	if err := c.ctx.ended(); err != nil && r.continued {
		// The stream was cut short (deadline, cancel): say so, so that
		// the client does not take the end for a normal one.
		writeErrorFrame(ch, asError(err))
	}
	c.ctx.cancel(context.Canceled)
	if active.isClosing() {
		c.stopWatch()
		awaitClientClose(ch)
	}
	ch.Close() // ends the background read
	c.watching.Wait()
}

// closeLinger bounds how long a call that ends during Shutdown waits for
// the client to close its end.
const closeLinger = 5 * time.Second

// awaitClientClose waits until the client has closed its end of ch, which
// it does once it has read the reply, or for closeLinger: Shutdown closes
// the session as soon as its calls are done, and a transport may drop
// what it has not sent yet when its connection closes (QUIC does).
func awaitClientClose(ch mux.Channel) {
	ch.CloseWrite()
	ch.SetReadDeadline(time.Now().Add(closeLinger))
	io.Copy(io.Discard, ch)
}

// respond runs the handler, turning a panic into an internal error.
func (s *Server) respond(r *response, c *Call) {
	defer func() {
		if p := recover(); p != nil {
			// The stack stays here: it is the server's business.
			if s.ErrorLog != nil {
				s.ErrorLog.Error("rpc: handler panic", "selector", c.FullSelector, "panic", p, "stack", string(debug.Stack()))
			}
			r.Error(Errorf(CodeInternal, "handler panic: %v", p))
		}
	}()
	h := s.Handler
	if h == nil {
		r.Error(Errorf(CodeUnimplemented, "no handler"))
		return
	}
	h.RespondRPC(r, c)
	if !r.responded {
		r.Return(nil)
	}
}

// readRequest reads the call header and the arguments.
func (c *Call) readRequest() error {
	kind, p, err := c.fr.next()
	if err != nil {
		return err
	}
	if kind != frameCall {
		return fmt.Errorf("%w: got frame kind %d, want a call header", ErrMalformed, kind)
	}
	h, err := parseCallHeader(p)
	if err != nil {
		return err
	}
	c.Selector, c.FullSelector, c.Metadata, c.timeout = h.selector, h.selector, h.metadata, h.timeout
	if c.codec, err = codecByName(h.codec); err != nil {
		return err
	}
	kind, p, err = c.fr.next()
	if err == io.EOF {
		return fmt.Errorf("%w: the call ended before its arguments: %w", ErrMalformed, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	if kind != frameValue {
		return fmt.Errorf("%w: got frame kind %d, want the arguments", ErrMalformed, kind)
	}
	c.args, c.hasArgs = p, true
	return nil
}
