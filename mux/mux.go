package mux

import (
	"context"
	"crypto/tls"
	"net"
)

// A Session multiplexes Channels over one connection. All methods are safe
// for concurrent use.
type Session interface {
	// Open opens a new channel to the peer. It blocks until the peer accepts
	// or rejects the channel, ctx is done, or the session ends. A cancelled
	// or rejected open leaves no channel behind.
	Open(ctx context.Context) (Channel, error)

	// Accept waits for the next channel opened by the peer, until ctx is
	// done or the session ends.
	Accept(ctx context.Context) (Channel, error)

	// Close ends the session and the underlying connection. Pending and
	// future operations on the session and its channels fail with an error
	// that matches ErrSessionClosed. Close returns once the session's
	// goroutines have exited, so that nothing of the session runs after it:
	// within a bounded time, which the implementation documents, provided
	// closing the connection interrupts its blocked reads and writes. Close
	// is idempotent; concurrent and later calls wait the same way.
	//
	// What Close delivers of the data its channels wrote, each
	// implementation documents: qmux sends what was written before Close
	// to the connection first, within a bounded time; over mux/quic the
	// peer loses what its application has not read when the close
	// reaches it (it is a LossyCloser), its Reads failing with the
	// session's end. Data the peer has read is never taken back.
	// So a caller that must know the peer has read what it wrote before
	// the session closes learns it from the peer: it half-closes the
	// channel (CloseWrite) and reads until io.EOF, which the peer's Close
	// brings, the peer closing once it has read what it wanted; muxtest
	// checks that for every Session.
	Close() error

	// Wait blocks until the session has ended and reports why: nil after a
	// local Close, otherwise the error that ended it (the connection failed
	// or closed, or the peer broke the protocol).
	Wait() error

	// LocalAddr and RemoteAddr are the addresses of the underlying
	// connection, or a placeholder address when it has none.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// A Channel is a full-duplex, flow-controlled byte stream within a Session.
// It is a net.Conn: Read returns io.EOF after the peer's CloseWrite or
// Close, deadlines make blocked calls fail with os.ErrDeadlineExceeded, and
// Close unblocks pending Read and Write calls.
type Channel interface {
	net.Conn

	// ID identifies the channel within its session on this side. IDs are
	// reused only after the channel is fully closed.
	ID() uint64

	// CloseWrite half-closes the channel: the peer reads io.EOF after the
	// data written so far, while this side can still read.
	CloseWrite() error
}

// An EarlyOpener is a Session that can open a channel without waiting for
// the peer's answer, for callers that can take a refusal late: OpenEarly
// returns once the open is under way, and if the peer refuses the channel,
// its Reads and Writes fail with an error matching ErrOpenRejected. Data
// written before the answer waits for it where the protocol requires. ctx
// bounds only what OpenEarly itself waits for.
type EarlyOpener interface {
	OpenEarly(ctx context.Context) (Channel, error)
}

// A TryAccepter is a Session that can take a channel the peer opened
// without waiting: TryAccept returns one and true if one waits for
// Accept, else nil and false (also once the session has ended). A server
// whose goroutine is done with a channel takes the next one itself this
// way, where a wait in Accept would have another goroutine take it and
// hand it over. qmux's sessions are TryAccepters; muxtest checks the
// contract for every Session that is one.
type TryAccepter interface {
	TryAccept() (Channel, bool)
}

// A LossyCloser is a Session whose Close may lose what its channels wrote
// and the peer's application has not read yet (mux/quic; see Session.Close),
// reporting so with CloseLosesUnread. A caller that closes such a session
// and must not lose a reply it sent keeps the reply's channel until the
// peer closes its end (CloseWrite, then read until io.EOF), as rpc's
// server does for every call on such a session. muxtest checks that a
// Session reports what Options.CloseLosesUnread says of it.
type LossyCloser interface {
	Session
	CloseLosesUnread() bool
}

// A TLSSession is a Session that knows whether its connection is secured
// by TLS (the tls, wss and quic schemes) and how: the peer's certificates
// as the handshake verified them, the protocol negotiated. The layers
// above learn who the peer is from it.
type TLSSession interface {
	// TLSConnectionState returns the state of the TLS handshake of the
	// session's connection and true, or false if the connection does not
	// use TLS.
	TLSConnectionState() (tls.ConnectionState, bool)
}

// A ByteCounter is a Session that counts the bytes it has sent and
// received on its connection so far, its protocol's own framing included.
// Servers report them as metrics. qmux's and mux/quic's sessions are
// ByteCounters.
type ByteCounter interface {
	BytesTransferred() (sent, received uint64)
}

// A BuffersWriter is a Channel that writes several buffers as one Write of
// their concatenation would, without copying them together first: a frame
// header and a payload in the caller's memory can share a packet.
type BuffersWriter interface {
	WriteBuffers(bufs [][]byte) (int, error)
}

// A WriteDoneChannel is a Channel that tells when its writes are over for
// good, so that a caller need not write to find out: a proxy that read
// io.EOF learns whether the peer only half-closed the channel (CloseWrite)
// and still reads, or closed it. The channel that WriteDone returns is
// closed once Write fails for good: after this side's CloseWrite or
// Close, the peer's Close, a refused early open, or the end of the
// session. The peer's Close is seen once its notice arrives, which may be
// after Read returned io.EOF: a caller that must know waits on WriteDone
// rather than looking once. qmux's and mux/quic's channels are
// WriteDoneChannels, and muxtest checks the contract.
type WriteDoneChannel interface {
	Channel
	WriteDone() <-chan struct{}
}

// A ReadNotifier is a Channel that can tell when a Read would return
// without waiting, so that a caller need not keep a goroutine in a Read
// to find out: an rpc server watches a call's channel for the client's
// cancel this way while its handler is busy elsewhere.
//
// NotifyRead arranges for f to be called once, in a goroutine of its own,
// as soon as a Read would not wait: bytes came, the peer ended its writes
// (CloseWrite or Close), the open was refused, the channel was closed or
// its session ended. If a Read would not wait already, f is called at
// once. A read deadline passing does not call f. stop cancels the notice
// and reports whether f was not called: once it returns true, f never
// is. A channel keeps one notice at a time: a later NotifyRead replaces
// an earlier one that has not fired, which then never fires. qmux's
// channels are ReadNotifiers, and muxtest checks the contract for every
// channel that is one.
type ReadNotifier interface {
	Channel
	NotifyRead(f func()) (stop func() bool)
}
