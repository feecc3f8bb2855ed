package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

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
	args    []byte // the first value, decoded by the first Receive
	hasArgs bool
	ended   bool // the client ended its stream
	oneWay  bool // the header was a MESSAGE: one-way messages follow
	legacy  bool // the call is in the older framing (legacy.go)
	takesZ  bool // the client said it takes compressed values
	zmin    int  // the threshold of compressing the server's values; 0 for none

	// The background read that notices the client cancelling or closing
	// the call. It only runs while the handler is not reading and someone
	// looks at the call's context: nothing else sees what it finds, and a
	// goroutine per call is a cost that most unary calls need not pay.
	watchMu   sync.Mutex
	wanted    bool // guarded by watchMu: the context's end was looked at
	watchable bool // guarded by watchMu: the handler is not reading, and the next byte starts a frame
	running   bool // guarded by watchMu: the background read runs
	watching  sync.WaitGroup
	// On a mux.ReadNotifier channel the background read starts only once
	// the client sent something: until then a notice waits instead of a
	// goroutine. notice stops it (nil when none is set); noticeGen tells
	// the notice set last from one stopped or replaced meanwhile.
	notice    func() bool // guarded by watchMu
	noticeGen uint64      // guarded by watchMu
	// The byte the background read found, for the next read: written by
	// the background read while it runs, else by the handler's goroutine
	// (watching.Wait orders the two).
	peek         [1]byte
	peeked       bool
	mode         atomic.Int32 // modeFramed, modeUndecided or modeRaw
	interrupting atomic.Bool  // stopWatch is ending the background read

	// The server's write to the client under way: when it began (Unix
	// nanoseconds, 0 when none), written by the handler's goroutine; and
	// whether the session's sweep ended it for lasting past WriteTimeout.
	writingSince atomic.Int64
	writeStalled atomic.Bool
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
	case c.pastDeadline(err):
		c.ctx.cancel(context.DeadlineExceeded)
		return errStreamDeadline
	case err == errEndOfStream:
		c.ended = true
		err = io.EOF
	case err == io.EOF && c.legacy:
		// The older framing has no END: the client's end of its bytes
		// ends its stream.
		c.ended = true
		return io.EOF
	case err == io.EOF:
		// Framed calls end their stream with an END frame: end of stream
		// on the channel means the client closed the call.
		c.clientClosed()
		return Errorf(CodeCanceled, "the client closed the call: %w", io.ErrUnexpectedEOF)
	case channelFailed(err):
		c.clientClosed()
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
	if !c.wanted || !c.watchable || c.running {
		return
	}
	if rn, ok := c.ch.(mux.ReadNotifier); ok {
		if c.notice == nil {
			c.noticeGen++
			gen := c.noticeGen
			c.notice = rn.NotifyRead(func() { c.noticed(gen) })
		}
		return
	}
	c.runWatchLocked()
}

// runWatchLocked starts the background read.
func (c *Call) runWatchLocked() {
	c.running = true
	c.watching.Add(1)
	go c.watch()
}

// noticed starts the background read once the notice of generation gen
// fired, if it is still the one set and the channel still watchable: its
// Read then finds what came without waiting.
func (c *Call) noticed(gen uint64) {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if gen != c.noticeGen || c.notice == nil {
		return
	}
	c.notice = nil
	if c.wanted && c.watchable && !c.running {
		c.runWatchLocked()
	}
}

// claimReads takes the channel's reads for the handler: no background
// read starts until the next startWatch. It reports whether one runs.
func (c *Call) claimReads() (running bool) {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	c.watchable = false
	if c.notice != nil {
		c.notice()
		c.notice = nil
	}
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
	c.ch.SetReadDeadline(c.ctx.deadline) // the call's, or none
	c.interrupting.Store(false)
}

// beginWrite and endWrite frame a write of the server to the client, so
// that the session's sweep can end it if it stalls (Server.WriteTimeout).
func (c *Call) beginWrite() { c.writingSince.Store(time.Now().UnixNano()) }

// endWrite returns the error of the write it ends, deadline_exceeded if
// the sweep ended it, in which case the call's context ends too.
func (c *Call) endWrite(err error) error {
	c.writingSince.Store(0)
	if err != nil && c.writeStalled.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		c.ctx.cancel(context.DeadlineExceeded)
		return errWriteStalled
	}
	return err
}

// endStalledWrite makes the write under way fail if it began longer than
// timeout before now: the client does not read.
func (c *Call) endStalledWrite(now time.Time, timeout time.Duration) {
	since := c.writingSince.Load()
	if since == 0 || now.Sub(time.Unix(0, since)) < timeout {
		return
	}
	c.writeStalled.Store(true)
	c.ch.SetWriteDeadline(now)
}

// errWriteStalled fails a write the client did not read within
// Server.WriteTimeout.
var errWriteStalled = Errorf(CodeDeadlineExceeded, "the client did not read the call's reply or stream within the server's write timeout")

// errStreamDeadline and errArgsDeadline end reads that wait for the
// client past the call's deadline.
var (
	errStreamDeadline = Errorf(CodeDeadlineExceeded, "the call's deadline passed while waiting for the client's stream")
	errArgsDeadline   = Errorf(CodeDeadlineExceeded, "the call's deadline passed before its arguments came")
)

// pastDeadline reports whether err, from reading the channel, is its read
// deadline, which the call's deadline set, having passed. (A session that
// timed out fails with errors that match os.ErrDeadlineExceeded too.)
func (c *Call) pastDeadline(err error) bool {
	d := c.ctx.deadline
	return !d.IsZero() && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d)
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
	case n == 1 && c.peek[0] == frameCancel && c.mode.Load() == modeFramed && !c.legacy:
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

// takeRaw takes the channel's bytes for good, for the handler or for
// Forward: the background read stops for good, and the bytes read ahead
// of the frames are returned, to come first.
func (c *Call) takeRaw() (pending []byte) {
	if c.mode.Load() != modeRaw {
		c.stopWatch()
		c.mode.Store(modeRaw)
	}
	pending = c.fr.buffered()
	if c.peeked { // then nothing was buffered: the byte comes first
		c.peeked = false
		pending = append(pending, c.peek[0])
	}
	return pending
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

// readRequest reads the call header, whose names it takes from names
// when it can, and the arguments. The call's deadline runs from the
// moment the header was read: from then on it also bounds the channel's
// reads, so that a client that sends no arguments, or no values of its
// stream, does not hold the call past it.
func (c *Call) readRequest(names *nameCache) error {
	if legacy, err := c.fr.legacyStart(); err != nil {
		return err
	} else if legacy {
		return c.readLegacyRequest()
	}
	kind, p, err := c.fr.next()
	if err != nil {
		return err
	}
	if kind != frameCall && kind != frameMessage {
		return fmt.Errorf("%w: got frame kind %d, want a call header", ErrMalformed, kind)
	}
	h, err := parseCallHeader(p, names)
	if err != nil {
		return err
	}
	c.Selector, c.FullSelector, c.Metadata, c.takesZ = h.selector, h.selector, h.metadata, h.compress
	if c.codec, err = codecByName(h.codec); err != nil {
		return err
	}
	if kind == frameMessage {
		c.oneWay = true // messages follow, one VALUE each; no deadline
		return nil
	}
	if h.timeout > 0 {
		c.ctx.deadline = time.Now().Add(h.timeout)
		c.ch.SetReadDeadline(c.ctx.deadline)
	}
	kind, p, err = c.fr.next()
	if c.pastDeadline(err) {
		return errArgsDeadline
	}
	if err == io.EOF {
		return fmt.Errorf("%w: the call ended before its arguments: %w", ErrMalformed, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	if kind == frameCompressed {
		if p, err = c.fr.inflate(p); err != nil {
			return err
		}
		kind = frameValue
	}
	if kind != frameValue {
		return fmt.Errorf("%w: got frame kind %d, want the arguments", ErrMalformed, kind)
	}
	c.args, c.hasArgs = p, true
	return nil
}

// callContext is the context of a served call. It lives inside the call's
// allocation and makes its Done channel only when asked, which saves the
// allocations of context.WithCancel on every call. Cancellation comes from
// the server (the client closed the call, the session ended, the handler
// returned) or the timer of the deadline the client sent. Values come from
// the session's base context (Server.BaseContext).
type callContext struct {
	parent   context.Context
	deadline time.Time
	call     *Call       // starts watching the client when the end is first looked at
	observed atomic.Bool // Done, Err or AfterFunc was called

	mu    sync.Mutex
	done  chan struct{}
	err   error
	timer *time.Timer
	after []func()
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *callContext) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }
func (c *callContext) Value(key any) any           { return c.parent.Value(key) }

// observe tells the call, the first time, that the context's end is
// looked at: only then is there a point in watching the client.
func (c *callContext) observe() {
	if !c.observed.Load() && c.observed.CompareAndSwap(false, true) {
		c.call.wantWatch()
	}
}

func (c *callContext) Done() <-chan struct{} {
	c.observe()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *callContext) Err() error {
	c.observe()
	return c.ended()
}

// ended is Err for the server's own use: it does not count as looking.
func (c *callContext) ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// AfterFunc lets context.AfterFunc and derived contexts hook cancellation
// without a goroutine each.
func (c *callContext) AfterFunc(f func()) (stop func() bool) {
	c.observe()
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.after = append(c.after, f)
	i := len(c.after) - 1
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err != nil || c.after[i] == nil {
			return false
		}
		c.after[i] = nil
		return true
	}
}

// start arms the timer of the deadline, if the call has one.
func (c *callContext) start() {
	if !c.deadline.IsZero() {
		// Under mu, as the timer calls cancel, which reads c.timer.
		c.mu.Lock()
		c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.cancel(context.DeadlineExceeded) })
		c.mu.Unlock()
	}
}

// cancel ends the context with err; later calls do nothing.
func (c *callContext) cancel(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	after := c.after
	c.after = nil
	c.mu.Unlock()
	for _, f := range after {
		if f != nil {
			go f()
		}
	}
}
