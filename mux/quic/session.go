package quic

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/mux"
)

// A Session is a mux.Session over one QUIC connection, each channel a
// bidirectional stream.
type Session struct {
	conn    *quicgo.Conn
	cfg     Config
	release func() // called once the connection has ended; may be nil

	ready chan *channel  // confirmed channels waiting for Accept; sent to with mu held
	ended chan struct{}  // closed as soon as the session is known to have ended
	done  chan struct{}  // closed once the session's goroutines have exited and release returned
	opens sync.WaitGroup // the goroutines of handleOpen, and the idle check while it is armed

	channels  atomic.Int64  // channels made and not yet closed (see hasChannels)
	dataReads atomic.Uint64 // channel Reads that returned data, counted while Config.IdleTimeout is on
	idle      idleness

	beforeConnClose func() // tests only: runs in closeConn before the connection is closed

	// mu guards the fields below and the sends to ready.
	mu       sync.Mutex
	waiting  []pendingOpen // opens held while ready is full, oldest first
	closed   bool          // the session has ended (ended is closed, or about to be)
	cause    error         // why it ended; nil after Close
	closeErr error         // what operations return once ended; matches mux.ErrSessionClosed
}

var (
	_ mux.Session     = (*Session)(nil)
	_ mux.EarlyOpener = (*Session)(nil)
	_ mux.TLSSession  = (*Session)(nil)
	_ mux.LossyCloser = (*Session)(nil)
)

// A pendingOpen is a stream the peer opened, held while Accept's backlog
// is full.
type pendingOpen struct {
	str    *quicgo.Stream
	answer bool // its opener waits for the confirmation (headerOpen)
}

// New starts a session over conn with cfg (nil for the defaults), for
// callers that set up quic-go themselves; Dial and Listen do it for the
// usual case. Both ends of conn must run this package. Only cfg's
// AcceptBacklog, IdleTimeout and EarlyOpen apply here: the other fields configure the
// connection, which conn already is. The session owns conn and closes it
// when it ends. An invalid cfg (see Config.Validate) is an error matching
// ErrInvalidConfig, and leaves conn to the caller.
func New(conn *quicgo.Conn, cfg *Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newSession(conn, cfg, nil), nil
}

func newSession(conn *quicgo.Conn, cfg *Config, release func()) *Session {
	d := cfg.withDefaults()
	s := &Session{
		conn:    conn,
		cfg:     d,
		release: release,
		ready:   make(chan *channel, d.AcceptBacklog),
		ended:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.startIdle()
	go s.acceptLoop()
	return s
}

// acceptLoop takes the streams the peer opens and reads the open header of
// each in a goroutine of its own, so that a slow or hostile opener holds up
// only its stream. When the connection ends, it waits for those goroutines
// and releases the connection's resources.
func (s *Session) acceptLoop() {
	defer close(s.done)
	for {
		str, err := s.conn.AcceptStream(context.Background())
		if err != nil {
			s.end(err)
			break
		}
		s.opens.Go(func() { s.handleOpen(str) })
	}
	s.opens.Wait()
	if s.release != nil {
		s.release()
	}
}

// handleOpen reads the open header of a stream the peer opened and queues
// the channel for Accept, holds it, or refuses it, by the room in the
// backlog.
func (s *Session) handleOpen(str *quicgo.Stream) {
	h, err := readHeader(str)
	if err != nil {
		// The opener gave up (or the connection ended) before the header.
		cancelStream(str, codeCancelled)
		return
	}
	if h != headerOpen && h != headerOpenEarly {
		cancelStream(str, codeCancelled)
		s.fail(fmt.Errorf("%w: open header %#x on stream %d", mux.ErrProtocol, h, str.StreamID()))
		return
	}
	open := pendingOpen{str: str, answer: h == headerOpen}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		cancelStream(str, codeCancelled)
	case len(s.waiting) == 0 && len(s.ready) < cap(s.ready):
		s.confirmLocked(open)
	case len(s.waiting) < s.cfg.AcceptBacklog:
		s.waiting = append(s.waiting, open)
	default:
		cancelStream(str, codeRejected)
	}
}

// confirmLocked queues the channel of an open for Accept, which must have
// room, and answers the open if its opener waits for the answer. The
// confirmation is sent before Accept can hand the channel out, so it
// precedes any data the application writes.
func (s *Session) confirmLocked(open pendingOpen) {
	str := open.str
	if !open.answer {
		// An early opener: the silence is the confirmation.
		s.ready <- newChannel(s, str) // never blocks: senders hold mu and check for room
		return
	}
	// One byte on a fresh stream fits its window: Write does not block.
	if _, err := str.Write(confirmHeader); err != nil {
		if se, ok := remoteStreamErr(err); !ok || se.ErrorCode != codeClosed {
			cancelStream(str, codeCancelled) // the opener gave up
			return
		}
		// The opener closed the channel before the answer arrived
		// (STOP_SENDING with code 0): what it wrote, and its FIN, are
		// still to be read.
	}
	s.ready <- newChannel(s, str) // never blocks: senders hold mu and check for room
}

// promoteLocked confirms the oldest held opens while Accept has room for
// them.
func (s *Session) promoteLocked() {
	for !s.closed && len(s.waiting) > 0 && len(s.ready) < cap(s.ready) {
		open := s.waiting[0]
		s.waiting[0] = pendingOpen{}
		s.waiting = s.waiting[1:]
		s.confirmLocked(open)
	}
}

// Open opens a channel: it opens a stream (waiting while the peer's
// MaxIncomingStreams are open), sends the open header and waits for the
// peer's confirmation. If ctx is done first, the stream is cancelled in
// both directions and Open fails with ctx's error.
//
// With Config.EarlyOpen, Open sends the open header that asks for no
// confirmation and returns once it is sent, and so departs from the
// mux.Session contract: a refusal by the peer is not reported by Open but
// by the channel's first Read (or a Write once the refusal has arrived),
// with an error matching mux.ErrOpenRejected. ctx bounds only the opening
// of the stream and the sending of the header.
func (s *Session) Open(ctx context.Context) (mux.Channel, error) {
	return s.open(ctx, s.cfg.EarlyOpen, true)
}

// OpenEarly opens a channel as Open does with Config.EarlyOpen, whatever
// the Config (mux.EarlyOpener), except that it does not wait for the
// peer's stream limit: while MaxIncomingStreams of the peer's are open,
// it fails with mux.ErrTooManyChannels.
func (s *Session) OpenEarly(ctx context.Context) (mux.Channel, error) {
	return s.open(ctx, true, false)
}

// open opens a channel, early or not, waiting for the peer's stream limit
// or not.
func (s *Session) open(ctx context.Context, early, wait bool) (mux.Channel, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("quic: open: %w", err)
	}
	if err := s.endedErr(); err != nil {
		return nil, err
	}
	var str *quicgo.Stream
	var err error
	if wait {
		str, err = s.conn.OpenStreamSync(ctx)
	} else {
		str, err = s.conn.OpenStream()
	}
	if err != nil {
		var limit *quicgo.StreamLimitReachedError
		switch {
		case isConnErr(err):
			return nil, s.connEnded(err)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("quic: open: %w", ctx.Err())
		case errors.As(err, &limit):
			return nil, fmt.Errorf("quic: open: %w", mux.ErrTooManyChannels)
		}
		return nil, fmt.Errorf("quic: open: %w", err)
	}
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { cancelStream(str, codeCancelled) })
	}
	var answer byte
	header := openHeader
	if early {
		header = openEarlyHeader
	}
	_, err = str.Write(header) // blocks only if the connection's flow-control window is full
	if err == nil && !early {
		answer, err = readHeader(str)
	}
	if !stop() { // ctx is done: the stream is cancelled, whatever the answer
		cancelStream(str, codeCancelled)
		return nil, fmt.Errorf("quic: open: %w", ctx.Err())
	}
	switch {
	case err == nil && early:
		return newEarlyChannel(s, str), nil
	case err == nil && answer == headerConfirm:
		return newChannel(s, str), nil
	}
	cancelStream(str, codeCancelled)
	if se, ok := remoteStreamErr(err); ok && se.ErrorCode == codeRejected {
		return nil, mux.ErrOpenRejected
	}
	switch {
	case isConnErr(err):
		return nil, s.connEnded(err)
	case err == nil:
		err = fmt.Errorf("%w: open answered with %#x", mux.ErrProtocol, answer)
		s.fail(err)
		return nil, err
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: stream %d ended before its open was answered", mux.ErrProtocol, str.StreamID())
	}
	return nil, fmt.Errorf("quic: open: %w", err)
}

// Accept waits for a channel opened by the peer.
func (s *Session) Accept(ctx context.Context) (mux.Channel, error) {
	// The end is reported once ended is closed, not as soon as closeConn
	// marked the session closed: until the connection is closed, what the
	// application does on learning of the end could still reach the peer.
	select {
	case <-s.ended:
		return nil, s.endedErr()
	default:
	}
	select {
	case c := <-s.ready:
		s.mu.Lock()
		s.promoteLocked()
		s.mu.Unlock()
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("quic: accept: %w", ctx.Err())
	case <-s.ended:
		return nil, s.endedErr()
	}
}

// Close closes the connection with application error code 0 and waits
// until the session's goroutines have exited. The peer loses what its
// application has not read of the data written before (quic-go discards
// the streams' data with the connection): see CloseLosesUnread.
func (s *Session) Close() error {
	s.closeConn(mux.ErrSessionClosed, nil, codeSessionClosed, "")
	<-s.done
	return nil
}

// CloseLosesUnread reports true (mux.LossyCloser): when the close reaches
// the peer, its Reads report the session's end before the data its stack
// holds and its application has not read.
func (s *Session) CloseLosesUnread() bool { return true }

// closeConn ends the session with closeErr and cause, unless it has ended
// already, and closes the connection with code and reason. Only then does
// it close ended, which ends a pending Accept: what the application does
// when it learns of the end, such as answering the calls the end cancels,
// then fails on the closed connection instead of reaching the peer as the
// session's last words.
func (s *Session) closeConn(closeErr, cause error, code quicgo.ApplicationErrorCode, reason string) {
	s.mu.Lock()
	first := !s.closed
	if first {
		s.closed = true
		s.cause, s.closeErr = cause, closeErr
		s.stopIdleLocked()
	}
	s.mu.Unlock()
	if first && s.beforeConnClose != nil {
		s.beforeConnClose()
	}
	s.conn.CloseWithError(code, reason)
	if first {
		close(s.ended)
	}
}

// Wait waits until the session has ended and its goroutines have exited,
// and returns why it ended: nil after Close, otherwise the cause (an error
// wrapping quic-go's, such as *quic.ApplicationError when the peer closed
// the session or *quic.IdleTimeoutError when it vanished, or matching
// mux.ErrProtocol).
func (s *Session) Wait() error {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// LocalAddr returns the local UDP address.
func (s *Session) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// RemoteAddr returns the peer's UDP address.
func (s *Session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// TLSConnectionState returns the state of the connection's TLS handshake:
// QUIC always uses TLS.
func (s *Session) TLSConnectionState() (tls.ConnectionState, bool) {
	return s.conn.ConnectionState().TLS, true
}

// BytesTransferred returns the bytes of the UDP datagrams of the session's
// connection sent and received so far, QUIC's packets whole. It
// implements mux.ByteCounter.
func (s *Session) BytesTransferred() (sent, received uint64) {
	st := s.conn.ConnectionStats()
	return st.BytesSent, st.BytesReceived
}

// ConnectionState returns the state of the QUIC connection, including
// that of its TLS handshake.
func (s *Session) ConnectionState() quicgo.ConnectionState { return s.conn.ConnectionState() }

// end records that the connection ended with err, unless the session has
// already ended.
func (s *Session) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.stopIdleLocked()
	s.cause = endCause(err)
	s.closeErr = fmt.Errorf("%w: %w", mux.ErrSessionClosed, s.cause)
	close(s.ended)
}

// fail ends the session because the peer broke the protocol: it records
// cause and closes the connection with codeProtocol.
func (s *Session) fail(cause error) {
	s.closeConn(fmt.Errorf("%w: %w", mux.ErrSessionClosed, cause), cause, codeProtocol, "qtalk: bad open handshake")
}

// connEnded returns the error for an operation that failed with err
// because the connection ended.
func (s *Session) connEnded(err error) error {
	s.end(err)
	return s.endedErr()
}

// endedErr returns the error of operations on the ended session, or nil
// if it has not ended.
func (s *Session) endedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}
