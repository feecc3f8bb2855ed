package rpc

import (
	"context"
	"errors"
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

// Defaults of the Server's budgets (spec/limits.md lists them all).
const (
	DefaultRequestTimeout     = 30 * time.Second
	DefaultMaxWaitingChannels = 64
	DefaultWriteTimeout       = time.Minute

	// DefaultMaxFrameMemory lets the calls of a session hold 16 frames
	// of DefaultMaxFrameSize at once (more of smaller ones), while a
	// session's memory stays within what a server can give each of
	// many peers (spec/limits.md, "Memory per session").
	DefaultMaxFrameMemory = 64 << 20
)

var (
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

	// RequestTimeout bounds how long a channel the server accepted may
	// wait for its call (the CALL header and the arguments, or the first
	// MESSAGE): past it, the channel is refused as at Shutdown, so a
	// client whose call was under way sends it again on a new channel.
	// Clients open a few channels ahead of their calls; those wait too.
	// 0 selects DefaultRequestTimeout, a negative value none.
	RequestTimeout time.Duration

	// MaxWaitingChannels bounds the channels of a session that have
	// waited more than a second for their call; while that many wait, a
	// channel accepted is refused at once. 0 selects
	// DefaultMaxWaitingChannels, a negative value none.
	MaxWaitingChannels int

	// WriteTimeout bounds how long the server's write of a reply, a
	// streamed value or an error frame may take, for a client that does
	// not read (its flow-control window stays full): past it, the write
	// fails, the call fails with deadline_exceeded and its context ends
	// with context.DeadlineExceeded, and when the handler has returned
	// the channel is closed, which drops what was queued on it. The
	// session's other calls go on. Checked every quarter of the timeout,
	// so a write may last up to a quarter longer. A client must thus read
	// a frame of MaxFrameSize within the timeout. Writes a handler makes
	// on the raw channel (Responder.Conn) are its own business.
	// 0 selects DefaultWriteTimeout, a negative value none.
	WriteTimeout time.Duration

	// CompressMin is the size of an encoded value from which the server
	// compresses the values it sends on a call whose client takes
	// compressed values (zstd; spec/rpc.md, section 13). Such a server
	// takes compressed values too, and says so in its replies to those
	// clients; a decompressed value is bound by MaxFrameSize as any value
	// is. 0 selects DefaultCompressMin, a negative value turns
	// compression off: the server neither takes nor sends compressed
	// values.
	CompressMin int

	// MaxFrameMemory bounds the bytes that the calls of a session hold
	// at once in the frames they read from the client: each call's frame
	// buffer, which grows with the bytes of a frame as they come (a frame
	// of n bytes takes up to about 4n/3), and a decompressed value. A
	// call whose frame would take the session past it fails with
	// resource_exhausted (an error matching ErrFrameMemory): its channel
	// is closed and what it held let go, and the session's other calls
	// go on. 0 selects DefaultMaxFrameMemory, a negative value none.
	MaxFrameMemory int

	mu       sync.Mutex
	closing  bool
	stopping atomic.Bool     // Shutdown was called: no call may begin (closing without the lock)
	stop     context.Context // cancelled by Shutdown: accept loops end
	stopFunc context.CancelFunc
	calls    sync.WaitGroup // calls in flight
	sessions sync.WaitGroup // sessions accepted by Serve
	names    nameCache      // the selectors and codec names of calls
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
	active := &activeCalls{calls: map[*Call]bool{}, base: context.Background(), waiting: map[*Call]time.Time{}}
	if s.BaseContext != nil {
		active.base = s.BaseContext(sess)
	}
	active.maxWaiting = budget(s.MaxWaitingChannels, DefaultMaxWaitingChannels)
	if lc, ok := sess.(mux.LossyCloser); ok {
		active.lossy = lc.CloseLosesUnread()
	}
	if limit := budget(s.MaxFrameMemory, DefaultMaxFrameMemory); limit > 0 {
		active.frames = &frameMemory{limit: int64(limit)}
	}
	requestTimeout := time.Duration(budget(int64(s.RequestTimeout), int64(DefaultRequestTimeout)))
	writeTimeout := time.Duration(budget(int64(s.WriteTimeout), int64(DefaultWriteTimeout)))
	if requestTimeout > 0 || writeTimeout > 0 {
		active.startSweep(requestTimeout, writeTimeout)
		defer active.stopSweep()
	}
	var caller *Client
	if s.NewCaller != nil {
		caller = s.NewCaller(sess)
	} else {
		caller = NewClient(sess)
	}
	ta, _ := sess.(mux.TryAccepter)
	work := make(chan mux.Channel) // to an idle worker
	defer active.workers.Wait()
	defer close(work) // idle workers exit
	for {
		ch, err := sess.Accept(stop)
		if err != nil {
			if stop.Err() != nil {
				return active.drain(sess)
			}
			active.end() // the session ended: so do its calls
			return err
		}
		if !s.admit(ch) {
			return active.drain(sess)
		}
		select {
		case work <- ch:
		default:
			active.workers.Add(1)
			go s.serveCalls(active, caller, ta, ch, work)
		}
	}
}

// admit counts the call of a channel just accepted, or refuses it if the
// server is shutting down, reporting false.
func (s *Server) admit(ch mux.Channel) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		refuse(ch, errShuttingDown)
		return false
	}
	s.calls.Add(1)
	s.mu.Unlock()
	return true
}

// maxIdleWorkers bounds the goroutines a session keeps waiting for calls.
const maxIdleWorkers = 16

// serveCalls serves ch, then the channels it gets from work, as long as
// fewer than maxIdleWorkers others wait for one. Reusing the goroutine
// spares each call a go statement and the growth of a new goroutine's
// stack to the depth a call needs. Over a mux.TryAccepter, a worker done
// with a call first takes the next channel the client opened itself, if
// one waits: ServeSession's accept loop would have to be woken for it and
// hand it over (for qmux, a channel opened with the call just served is
// left for this, see its lazyAccept).
func (s *Server) serveCalls(active *activeCalls, caller *Client, ta mux.TryAccepter, ch mux.Channel, work <-chan mux.Channel) {
	defer active.workers.Done()
	for {
		s.serveCall(active, caller, ch)
		if ta != nil {
			if next, ok := ta.TryAccept(); ok {
				if !s.admit(next) {
					return // ServeSession drains
				}
				ch = next
				continue
			}
		}
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
// to end. Meanwhile each session drains (spec/rpc.md, "Draining"): the
// calls of idle channels, and of every channel the client opens, are
// refused (unavailable, matching ErrRefused: they did not run), and
// ServeSession returns once the session's calls in flight are done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopContext()
	s.mu.Lock()
	s.closing = true
	s.stopping.Store(true)
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
	base         context.Context // the parent of the calls' values
	workers      sync.WaitGroup  // the goroutines serving calls
	idleWorkers  atomic.Int32    // workers waiting for a call
	mu           sync.Mutex
	calls        map[*Call]bool      // true once the call began
	ended        bool                // the session ended
	closing      bool                // Shutdown: no call may begin
	waiting      map[*Call]time.Time // guarded by mu: the calls whose request has not come, by when their channel was accepted
	maxWaiting   int                 // the most entries of waiting; 0 for no limit
	sweep        *time.Timer         // refuses the calls waiting too long, ends stalled writes; guarded by mu
	timeout      time.Duration       // Server.RequestTimeout, 0 for none
	writeTimeout time.Duration       // Server.WriteTimeout, 0 for none
	drained      chan struct{}       // guarded by mu; made by shutdown, closed once calls is empty
	frames       *frameMemory        // Server.MaxFrameMemory; nil for none
	lossy        bool                // the session's Close loses what the client has not read (mux.LossyCloser)
}

// budget returns n, or def if n is 0, or 0 (no limit) if n is negative.
func budget[T int | int64](n, def T) T {
	switch {
	case n < 0:
		return 0
	case n == 0:
		return def
	}
	return n
}

// staleAfter is how long a channel waits for its request before it counts
// against MaxWaitingChannels: a burst of calls opens many channels whose
// requests are on their way, which the server has just not read yet.
const staleAfter = time.Second

// await registers c as waiting for its request; false if as many calls of
// the session have waited for theirs longer than staleAfter as the bound
// allows.
func (a *activeCalls) await(c *Call) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if a.maxWaiting > 0 && len(a.waiting) >= a.maxWaiting {
		stale := 0
		for _, since := range a.waiting {
			if now.Sub(since) >= staleAfter {
				stale++
			}
		}
		if stale >= a.maxWaiting {
			return false
		}
	}
	a.waiting[c] = now
	return true
}

// requested notes that c's request came; false if the sweep refused c
// meanwhile (the client then sends the call again).
func (a *activeCalls) requested(c *Call) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.waiting[c]
	delete(a.waiting, c)
	return ok
}

// startSweep refuses, every quarter of the shorter timeout, the calls
// that have waited longer than timeout for their request, and ends the
// writes of begun calls under way for longer than writeTimeout (a zero
// timeout is none). A timer rather than a goroutine: it costs a session
// nothing between sweeps.
func (a *activeCalls) startSweep(timeout, writeTimeout time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.timeout, a.writeTimeout = timeout, writeTimeout
	a.sweep = time.AfterFunc(a.sweepPeriod(), a.sweepCalls)
}

func (a *activeCalls) sweepPeriod() time.Duration {
	switch {
	case a.timeout == 0:
		return a.writeTimeout / 4
	case a.writeTimeout == 0:
		return a.timeout / 4
	}
	return min(a.timeout, a.writeTimeout) / 4
}

func (a *activeCalls) sweepCalls() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sweep == nil {
		return // stopped
	}
	now := time.Now()
	if a.timeout > 0 {
		for c, since := range a.waiting {
			if now.Sub(since) >= a.timeout {
				delete(a.waiting, c)
				refuse(c.ch, errRequestTimeout)
			}
		}
	}
	if a.writeTimeout > 0 {
		for c, begun := range a.calls {
			if begun {
				c.endStalledWrite(now, a.writeTimeout)
			}
		}
	}
	a.sweep.Reset(a.sweepPeriod())
}

func (a *activeCalls) stopSweep() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweep.Stop()
	a.sweep = nil
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

func (a *activeCalls) remove(c *Call) {
	a.mu.Lock()
	delete(a.calls, c)
	delete(a.waiting, c)
	a.checkDrainedLocked()
	a.mu.Unlock()
}

// checkDrainedLocked closes drained once the server is shutting down and
// the session has no call left.
func (a *activeCalls) checkDrainedLocked() {
	if a.drained == nil || len(a.calls) > 0 {
		return
	}
	select {
	case <-a.drained:
	default:
		close(a.drained)
	}
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
// calls go on. It returns a channel closed once the session has no call
// left.
func (a *activeCalls) shutdown() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closing = true
	a.drained = make(chan struct{})
	for c, begun := range a.calls {
		if !begun {
			refuse(c.ch, errShuttingDown)
		}
	}
	a.checkDrainedLocked()
	return a.drained
}

// drain ends the serving of sess at Shutdown: it refuses the idle
// channels, and every channel the client opens from now on, until the
// calls in flight are done. A client that calls meanwhile learns at once
// that the call did not run (instead of its open waiting in the session's
// backlog until the session closes), and can send it elsewhere.
func (a *activeCalls) drain(sess mux.Session) error {
	drained := a.shutdown()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-drained:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		ch, err := sess.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.end() // the session ended: so do its calls
			}
			return ErrServerClosed
		}
		refuse(ch, errShuttingDown)
	}
}

// The refusals of calls a server will not process, one per reason;
// clients send such calls again on a new channel, and report the reason
// once their retries are spent.
var (
	errShuttingDown   = Refuse("the server is shutting down")
	errRequestTimeout = Refuse("no call came on the channel within the server's request timeout")
	errTooManyWaiting = Refuse("too many of the session's channels wait for their call (the server's MaxWaitingChannels)")
)

// refuse closes a channel on which no call began. The refusal (why) first
// tells a client whose call is already on its way that the call was not
// processed and may be sent again.
func refuse(ch mux.Channel, why *Error) {
	writeError(ch, frameReply, why)
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
	zmin := budget(s.CompressMin, DefaultCompressMin)
	c.fr = frameReader{r: callReader{c}, maxSize: s.MaxFrameSize, compressed: zmin > 0, mem: active.frames}
	if c.fr.maxSize == 0 {
		c.fr.maxSize = DefaultMaxFrameSize
	}
	defer c.fr.release()
	if !active.add(c) {
		refuse(ch, errShuttingDown)
		return
	}
	defer ch.Close()
	defer active.remove(c)
	// Until its request comes, the call is idle: a client may open
	// channels ahead of its calls, and Shutdown closes idle channels, as
	// the sweep does those that wait longer than RequestTimeout.
	if !active.await(c) {
		refuse(ch, errTooManyWaiting)
		return
	}
	err := c.readRequest(&s.names)
	if !active.requested(c) {
		return // refused meanwhile
	}
	if c.takesZ {
		c.zmin = zmin
	}
	if err != nil {
		if errors.Is(err, ErrMalformed) {
			err = NewError(CodeInvalidArgument, err)
		}
		r.Error(err)
		s.lingerAfterReply(active, ch)
		return
	}
	if c.oneWay {
		// The channel stays idle between messages: each is a call of its
		// own, begun while its handler runs.
		s.serveMessages(active, c)
		return
	}
	if s.stopping.Load() || !active.begin(c) {
		// A channel accepted before Shutdown whose call came after it,
		// before the session noticed, is refused too.
		r.Error(errShuttingDown)
		s.lingerAfterReply(active, ch)
		return
	}
	c.ctx.parent, c.ctx.call = active.base, c
	c.ctx.start()
	c.startWatch()
	s.respond(r, c)
	c.claimReads() // for good: the handler is done
	if err := c.ctx.ended(); err != nil && r.continued && !r.failed && !c.legacy {
		// The stream was cut short (deadline, cancel): say so, so that
		// the client does not take the end for a normal one.
		c.beginWrite()
		c.endWrite(writeError(ch, frameError, asError(err)))
	}
	c.ctx.cancel(context.Canceled)
	if s.lingers(active) {
		c.stopWatch()
		awaitClientClose(ch)
	}
	ch.Close() // ends the background read
	c.watching.Wait()
}

// lingers reports whether a call's channel waits for the client's close
// after the reply before it closes (awaitClientClose), so that closing the
// session does not lose a reply the client has not read yet: always where
// the session's Close would lose it (mux.LossyCloser: a reply sent before
// Shutdown began may not be read by then), and on every session once
// Shutdown has begun, since the session may close as soon as its calls
// are done. The server's flag, not the session's: the session learns of
// Shutdown only when its Accept returns, which may come after the call
// ended and its channel was closed, its reply not read yet.
func (s *Server) lingers(active *activeCalls) bool {
	return active.lossy || s.stopping.Load()
}

// lingerAfterReply waits for the client's close of ch after an error
// reply to its request, where lingers says so.
func (s *Server) lingerAfterReply(active *activeCalls, ch mux.Channel) {
	if s.lingers(active) {
		awaitClientClose(ch)
	}
}

// closeLinger bounds how long a call's channel waits for the client to
// close its end after the reply (lingers).
const closeLinger = 5 * time.Second

// awaitClientClose waits until the client has closed its end of ch, which
// it does once it has read the reply, or for closeLinger: Shutdown closes
// the session as soon as its calls are done, and closing a session
// delivers only what the peer has read by then over some muxes (mux/quic:
// the peer's Reads report the connection's end before the data they have
// not taken yet; see mux.LossyCloser).
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
