package qmux

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// A Session is a qmux session over one connection. It implements
// mux.Session.
type Session struct {
	conn io.ReadWriteCloser
	sock io.ReadWriter // what the session reads and writes: conn, or the socket under it (see New)
	cfg  Config
	tw   tryWriter // writes to conn without waiting (flushOnRead); nil if it cannot

	// Complete messages read, and of them DATA messages; written by the
	// reader goroutine, sampled by watchLiveness.
	received, dataReceived atomic.Uint64
	// When the writer goroutine's write under way started (UnixNano), 0
	// between writes; written by the writer goroutine, sampled by
	// watchLiveness.
	writeSince atomic.Int64
	// Bytes written to the connection; written by the writer role,
	// read by BytesTransferred. What was read is counted by in.
	sent atomic.Uint64

	in  *input             // reader goroutine only
	hdr [maxHeaderLen]byte // reader goroutine only

	acceptBell chan struct{} // one token: rung when accepts may hold a channel for Accept (accept.go)
	acceptOwed atomic.Bool   // a ring for Accept is owed (lazyAccept)
	done       chan struct{} // closed when the session ends
	wg         sync.WaitGroup

	// holderReads is set while a Read holding the read role, rather than
	// the reader goroutine, reads messages; owned by the read role.
	holderReads bool

	// mu guards the fields below, the lifecycle and the send half of every
	// channel, and the writer role (see writer).
	mu       sync.Mutex
	chans    []*channel // indexed by local channel number; nil when free
	freeIDs  []uint32   // numbers below len(chans) that are free
	numChans int
	probes   int // of numChans, keepalive probes (see channel.probe)

	// What waits for the writer. Control messages and copied data are
	// written in the order they were queued: each control message records
	// how much copied data came before it.
	ctl      queue[ctlMsg]   // control messages: opens, answers, EOFs, CLOSEs
	ctlBytes int             // encoded length of ctl, bounded for replies by Config.MaxControlBacklog
	copied   []byte          // DATA messages of short Writes, copied (copyLocked), within copyBudget
	grants   queue[*channel] // channels with window to give back (a WINDOW_ADJUST)
	ready    queue[*channel] // channels with data to send and window to send it
	waiting  queue[frame]    // opens left unanswered while accepts is full
	accepts  queue[*channel] // confirmed channels waiting for Accept, at most Config.AcceptBacklog
	work     sync.Cond       // signalled when the queues gain work, the writer role is free, or the session ends
	// lateSince: CLOSE replies were queued without waking the writer
	// (queueCloseReplyLocked), the first at lateSince; zero once written.
	lateSince time.Time
	// yieldTimer bounds the writer's yield before a batch (maxYield,
	// yieldTimeout); yielding: the writer has yielded and is not back yet.
	yieldTimer sessionTimer
	yielding   bool
	// unsignalled: messages were queued without waking the writer, for
	// the goroutine that queued them to write (quiet.go); the deferred
	// work's timer writes them if it has not, quietFlushDelay later at the
	// most.
	unsignalled bool
	heldSince   time.Time // when the first of what is unsignalled was queued
	quietAfter  time.Time // not quiet before (runDeferred); zero when quiet may be
	// deferred runs the deferred work (timer.go): the read role's
	// linger, the flush of what is unsignalled, late CLOSE replies.
	// Guarded by role.mu.
	deferred sessionTimer

	closed    bool
	lingering bool  // closed locally: the writer sends ctl and copied, then closes the connection
	cause     error // why the session ended; nil after Close
	closeErr  error // what operations return once closed; matches mux.ErrSessionClosed

	writer writer
	role   readRole
	live   liveness

	credit *recvCredit // what is left of Config.SessionWindowSize for the channels' windows
}

// A ctlMsg is a queued control message.
type ctlMsg struct {
	f     frame
	after int // len(Session.copied) when it was queued: the copied data that goes first
}

var (
	_ mux.Session     = (*Session)(nil)
	_ mux.EarlyOpener = (*Session)(nil)
	_ mux.TryAccepter = (*Session)(nil)
	_ mux.TLSSession  = (*Session)(nil)
)

// New starts a session over conn with cfg (nil for the defaults). Both
// ends of a connection call New; qmux has no client and server roles. The
// session owns conn and closes it when it ends. If cfg is invalid (see
// Config.Validate), New returns an error matching ErrInvalidConfig and
// leaves conn to the caller.
//
// A conn that wraps a socket to act when it is closed, such as a
// listener's that counts its connections, may have a method
// Socket() net.Conn returning the socket: the session then reads and
// writes the socket directly, with vectored system calls where it is a
// TCP or Unix socket, and closes conn.
func New(conn io.ReadWriteCloser, cfg *Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Session{
		conn: conn,
		cfg:  cfg.withDefaults(),
		done: make(chan struct{}),
	}
	s.acceptBell = make(chan struct{}, 1)
	s.credit = newRecvCredit(s.cfg.SessionWindowSize)
	s.sock = conn
	if w, ok := conn.(interface{ Socket() net.Conn }); ok {
		s.sock = w.Socket()
	}
	raw := socketOf(s.sock)
	var vr vectorReader
	if raw != nil && s.fast(readVectored) {
		vr = newVectorReader(raw)
	}
	s.in = newInput(s.sock, vr)
	if raw != nil && s.fast(flushOnRead) {
		s.tw = newTryWriter(raw)
	}
	s.writer.vectored = raw != nil && s.fast(writeInPlace)
	s.role.cond.L = &s.role.mu
	s.deferred.init(&s.wg, s.runDeferred)
	s.yieldTimer.init(&s.wg, s.yieldTimeout)
	if d, ok := s.sock.(interface{ SetReadDeadline(time.Time) error }); ok && vr != nil && s.fast(readOnWait) {
		s.role.dl = d
	}
	s.work.L = &s.mu
	s.startLiveness() // before the reader and the writer, which may end the session
	s.wg.Add(2)
	go s.readLoop()
	go s.writeLoop()
	return s, nil
}

// socketOf returns the raw connection of a TCP or Unix socket, whose
// writes take net.Buffers in one system call and on which the session
// makes system calls of its own (readv, writes that do not wait), or nil
// for any other connection.
func socketOf(conn io.ReadWriter) syscall.RawConn {
	var sc syscall.Conn
	switch c := conn.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// Open opens a channel and waits until the peer confirms or refuses it.
func (s *Session) Open(ctx context.Context) (mux.Channel, error) {
	return s.open(ctx, false)
}

// open is Open, of a keepalive probe if probe is set.
func (s *Session) open(ctx context.Context, probe bool) (mux.Channel, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("qmux: open: %w", err)
	}
	s.mu.Lock()
	c, err := s.startOpenLocked(false)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if probe {
		c.probe = true
		s.probes++
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			s.mu.Lock()
			c.send.cond.Broadcast()
			s.mu.Unlock()
		})
		defer stop()
	}
	s.wakeReader() // the answer is to be read
	for c.state == opening && !s.closed && ctx.Err() == nil {
		c.send.cond.Wait()
	}
	defer s.mu.Unlock()
	switch {
	case c.state == opening && s.closed:
		return nil, s.closeErr
	case c.state == opening:
		// The answer is still to come: the reader releases the number
		// when it arrives, closing the channel if it was confirmed.
		c.state = abandoned
		return nil, fmt.Errorf("qmux: open: %w", ctx.Err())
	case c.state == done: // refused (an Open's channel is released at once)
		return nil, mux.ErrOpenRejected
	case s.closed:
		return nil, s.closeErr
	case ctx.Err() != nil:
		c.recv.close(s.credit)
		c.letGoLocked()
		return nil, fmt.Errorf("qmux: open: %w", ctx.Err())
	}
	return c, nil
}

// OpenEarly opens a channel without waiting for the peer's answer: it
// queues the OPEN and returns. A Write waits for the confirmation, since
// its data needs the peer's channel number and window, and is sent in the
// same batch as the OPEN when both are queued together. If the peer
// refuses the channel, its Reads and Writes fail with an error matching
// mux.ErrOpenRejected. Close before the answer is allowed: the channel is
// closed once it comes. OpenEarly never blocks: ctx is only checked, and
// when all channel numbers are taken (Config.MaxChannels) it fails with
// mux.ErrTooManyChannels, as Open does.
func (s *Session) OpenEarly(ctx context.Context) (mux.Channel, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("qmux: open: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.startOpenLocked(true)
	if err != nil {
		return nil, err
	}
	c.early = true
	return c, nil
}

// startOpenLocked allocates a channel and queues its OPEN; that of an
// early open may wait for the channel's data in a quiet session.
func (s *Session) startOpenLocked(early bool) (*channel, error) {
	if s.closed {
		return nil, s.closeErr
	}
	c, err := s.newChannelLocked()
	if err != nil {
		return nil, err
	}
	open := frame{typ: msgChannelOpen, sender: c.id, window: c.recv.size, maxPacket: s.cfg.MaxPacketSize}
	if early {
		s.queueQuietLocked(open) // it leaves with the channel's data
	} else {
		s.queueControlLocked(open)
	}
	return c, nil
}

// Close ends the session and closes the connection: pending and later
// operations fail at once, but the messages queued before Close (the data
// of short Writes that returned, CLOSEs) are still sent first, for up to
// five seconds if the peer does not read. Close returns once that is done
// and the session's goroutines have exited (the reader's once the
// connection's Close interrupted its Read), as mux.Session requires.
func (s *Session) Close() error {
	s.fail(nil)
	s.wg.Wait()
	return nil
}

// Wait waits until the session has ended and its goroutines have exited,
// and returns why it ended: nil after Close, otherwise the cause.
func (s *Session) Wait() error {
	<-s.done
	s.wg.Wait()
	return s.cause
}

// LocalAddr returns the connection's local address if it has one.
func (s *Session) LocalAddr() net.Addr {
	if c, ok := s.conn.(interface{ LocalAddr() net.Addr }); ok {
		return c.LocalAddr()
	}
	return mux.Addr{Net: "qmux"}
}

// TLSConnectionState returns the state of the connection's TLS handshake
// if the connection has a ConnectionState method, as a *tls.Conn has.
func (s *Session) TLSConnectionState() (tls.ConnectionState, bool) {
	if c, ok := s.conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return c.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// BytesTransferred returns the bytes the session has written to its
// connection and read from it so far, qmux's headers included. It
// implements mux.ByteCounter.
func (s *Session) BytesTransferred() (sent, received uint64) {
	return s.sent.Load(), s.in.bytes.Load()
}

// RemoteAddr returns the connection's remote address if it has one.
func (s *Session) RemoteAddr() net.Addr {
	if c, ok := s.conn.(interface{ RemoteAddr() net.Addr }); ok {
		return c.RemoteAddr()
	}
	return mux.Addr{Net: "qmux"}
}

// fail ends the session with cause (nil for a local Close): every pending
// and later operation fails, and the connection is closed.
func (s *Session) fail(cause error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.cause = cause
	if cause == nil {
		s.closeErr = mux.ErrSessionClosed
	} else {
		s.closeErr = fmt.Errorf("%w: %w", mux.ErrSessionClosed, cause)
	}
	close(s.done)
	s.endRole()
	if s.live.timer != nil && s.live.timer.Stop() {
		s.wg.Done() // the check it stopped would have
	}
	s.work.Broadcast()
	s.yieldTimer.stop()
	for _, c := range s.chans {
		if c != nil {
			c.send.cond.Broadcast()
			c.writesEndedLocked()
			c.recv.setEnd(recvSessionEnded)
		}
	}
	// After a local Close, the writer sends what Writes and closes queued
	// before it (a short Write returns once its data is queued), within
	// closeFlushTimeout, and then closes the connection.
	d, ok := s.conn.(interface{ SetWriteDeadline(time.Time) error })
	s.lingering = cause == nil && (s.ctl.len() > 0 || len(s.copied) > 0 || s.writer.held || len(s.writer.rest) > 0) && ok &&
		d.SetWriteDeadline(time.Now().Add(closeFlushTimeout)) == nil
	lingering := s.lingering
	s.mu.Unlock()
	if !lingering {
		s.conn.Close()
	}
}

// closeFlushTimeout bounds how long the writer tries to send the messages
// queued before a local Close, so that a peer that does not read cannot
// keep the connection open. (A variable for the tests.)
var closeFlushTimeout = 5 * time.Second

// newChannelLocked allocates the lowest free channel number.
func (s *Session) newChannelLocked() (*channel, error) {
	if s.numChans >= s.cfg.MaxChannels {
		return nil, mux.ErrTooManyChannels
	}
	var id uint32
	if n := len(s.freeIDs); n > 0 {
		id = s.freeIDs[n-1]
		s.freeIDs = s.freeIDs[:n-1]
	} else {
		id = uint32(len(s.chans))
		s.chans = append(s.chans, nil)
	}
	c := newChannel(s, id)
	s.chans[id] = c
	s.numChans++
	return c, nil
}

// releaseLocked frees c's number: once CLOSE was both sent and received
// and no application holds the channel, or when an open is refused.
func (s *Session) releaseLocked(c *channel) {
	if s.chans[c.id] != c {
		return
	}
	s.chans[c.id] = nil
	c.recv.mu.Lock()
	c.recv.returnCreditLocked(s.credit) // if not closed: a refused open
	c.recv.mu.Unlock()
	s.freeIDs = append(s.freeIDs, c.id)
	s.numChans--
	if c.probe {
		s.probes--
	}
}

// queueControlLocked queues a control message for the writer, behind the
// copied data queued so far.
func (s *Session) queueControlLocked(f frame) {
	s.ctl.push(ctlMsg{f: f, after: len(s.copied)})
	s.ctlBytes += headerLen(f.typ)
	s.work.Signal()
}

// fast reports whether the fast path sw is on (see speedup).
func (s *Session) fast(sw speedup) bool {
	return s.cfg.without&sw == 0
}

// numChannels reports how many channel numbers are in use.
func (s *Session) numChannels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.numChans
}

// hasChannels reports whether channels other than keepalive probes are
// open.
func (s *Session) hasChannels() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.numChans > s.probes
}

// ErrPeerNotReading ends a session whose peer makes this side queue more
// control messages than Config.MaxControlBacklog without reading them: a
// budget reached.
var ErrPeerNotReading = errors.New("qmux: peer is not reading: control backlog full")
