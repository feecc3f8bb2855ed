package qmux

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for the Config fields left zero.
const (
	// DefaultWindowSize is the initial receive window of each channel:
	// how many bytes the peer may send before it must wait for this side
	// to read. Loopback and LAN round trips are short, so a modest window
	// keeps the pipe full without letting a slow reader make the peer
	// buffer much; 512 KiB rather than 256 KiB halves the window grants
	// of a bulk transfer and lets 64 KiB messages stream without waiting
	// for them.
	DefaultWindowSize = 512 << 10

	// DefaultMaxWindowSize is how far a channel's receive window may grow
	// while its reader keeps up (Config.MaxWindowSize): as much as a
	// loopback TCP connection buffers, so that a stream keeps going while
	// its reader's thread waits for a CPU (on a busy machine, a scheduler
	// tick of a few milliseconds at several GB/s).
	DefaultMaxWindowSize = 4 << 20

	// DefaultSessionWindows is how many windows of WindowSize the
	// channels of a session may hold together by default
	// (Config.SessionWindowSize): 32 MiB with the default WindowSize, as
	// many as 64 channels streaming at full speed at once, one of them
	// stalled or not.
	DefaultSessionWindows = 64

	// DefaultMaxPacketSize is the largest DATA payload this side accepts:
	// twice SSH's 32 KiB, since a receiver wakes a Read per payload, which
	// is what bulk over many channels pays for (spec/qmux.md section 8).
	DefaultMaxPacketSize = 64 << 10

	// DefaultAcceptBacklog is how many channels the peer may open before
	// Accept takes them; further opens are refused with OPEN_FAILURE.
	DefaultAcceptBacklog = 256

	// DefaultMaxChannels bounds the channels open at once in a session,
	// counting both directions.
	DefaultMaxChannels = 4096

	// DefaultMaxControlBacklog bounds the control messages (window adjusts,
	// replies to the peer's opens and closes) queued while the peer does not
	// read. A peer that lets more pile up ends the session.
	DefaultMaxControlBacklog = 64 << 10

	// DefaultKeepAlivePeriod is how long a session hears nothing from its
	// peer before it probes it (spec/qmux.md, "Idle sessions and
	// keepalive"), as mux/quic's default: a peer that is gone (a cable
	// pulled, a NAT mapping dropped) is found within about 35 s.
	DefaultKeepAlivePeriod = 15 * time.Second

	// DefaultKeepAliveTimeout is how long a keepalive probe waits for the
	// peer's answer.
	DefaultKeepAliveTimeout = 15 * time.Second

	// DefaultWriteTimeout bounds a write to the connection: a peer that
	// reads less than a batch (a few hundred KiB) in that time is let go.
	DefaultWriteTimeout = 30 * time.Second
)

// Config tunes a Session. The zero value, like a nil *Config, selects every
// default.
type Config struct {
	// WindowSize is each channel's initial receive window in bytes, at
	// most 2^32-1 and at least MaxPacketSize. Default DefaultWindowSize.
	WindowSize uint32

	// MaxWindowSize is how far a channel's receive window may grow, at
	// least WindowSize. Each time a channel gives window back to the peer
	// (once its reader consumed half of it), its window doubles, up to
	// MaxWindowSize, as far as that leaves half of SessionWindowSize to
	// the other channels: a channel read as fast as it streams gets a
	// window that covers its reader's pauses, while one that carries a
	// call or two keeps WindowSize. So a channel buffers at most
	// MaxWindowSize. Default the larger of DefaultMaxWindowSize and
	// WindowSize; WindowSize keeps every window fixed.
	MaxWindowSize uint32

	// SessionWindowSize bounds the receive windows of the session's
	// channels together, as QUIC's connection-level flow control does:
	// the sum over the channels of the window given to the peer and the
	// bytes received and not yet read stays within it, but for a
	// minimum of 4 KiB (or WindowSize if smaller) that every channel has
	// whatever the others hold. So the bytes a session buffers for its
	// channels stay below SessionWindowSize plus 4 KiB per channel open,
	// for a peer that sends all it may. A channel takes its window from
	// what is left when it opens, and takes more, up to WindowSize (and
	// beyond, see MaxWindowSize), when it gives window back as it is
	// read; it returns what it took when it is closed. While less than
	// WindowSize is left, the channels aim at a fair share,
	// SessionWindowSize divided by the channels open: one above it gives
	// back to the session, rather than to the peer, what is read down to
	// that share. No message changes: the peer just sees smaller windows
	// (spec/qmux.md, "Flow control"). Default DefaultSessionWindows
	// times WindowSize; at least WindowSize; a negative value sets no
	// bound beyond each channel's MaxWindowSize.
	SessionWindowSize int64

	// MaxPacketSize is the largest DATA payload accepted from the peer;
	// longer ones are protocol errors. Default DefaultMaxPacketSize.
	MaxPacketSize uint32

	// AcceptBacklog is the number of opened channels waiting for Accept.
	// Default DefaultAcceptBacklog.
	AcceptBacklog int

	// MaxChannels is the largest number of channels open at once.
	// Default DefaultMaxChannels.
	MaxChannels int

	// MaxControlBacklog is the number of bytes of control messages that may
	// wait to be written. Default DefaultMaxControlBacklog.
	MaxControlBacklog int

	// IdleTimeout ends a session that has had no channel open and
	// received no data for that long: a peer that connects and sends
	// nothing, or a message a byte at a time, is cut off. Channels opened
	// and closed without data, such as keepalive probes (this side's and
	// the peer's), are not activity: a live peer that makes no calls is
	// let go too. 0 (the default) never ends a session for it; servers
	// set it (transport's listeners do, see
	// transport.DefaultServerIdleTimeout). The session ends with an error
	// matching ErrIdleTimeout within IdleTimeout and a quarter. mux/quic's
	// Config.IdleTimeout has the same meaning.
	IdleTimeout time.Duration

	// KeepAlivePeriod makes the session probe a peer it has received
	// nothing from for that long: it opens a channel and closes it once
	// the peer answers (a refusal is an answer too; see spec/qmux.md,
	// "Idle sessions and keepalive"). A peer that sends nothing more
	// within KeepAliveTimeout ends the session with an error matching
	// ErrKeepAliveTimeout, so a dead peer is detected within
	// KeepAlivePeriod and a quarter plus KeepAliveTimeout, and every
	// pending operation of the session fails. Default
	// DefaultKeepAlivePeriod; a negative value sends no probe. mux/quic's
	// Config.KeepAlivePeriod has the same name, default and meaning.
	KeepAlivePeriod time.Duration

	// KeepAliveTimeout is how long a probe waits for the peer's answer.
	// Default DefaultKeepAliveTimeout.
	KeepAliveTimeout time.Duration

	// WriteTimeout bounds each write of a batch of messages to the
	// connection (at most about 400 KiB: 256 KiB of DATA payloads plus
	// the control messages and short writes' data queued): a peer that
	// stops reading the connection, while it may go on sending, ends the
	// session within WriteTimeout and a quarter with an error matching
	// ErrWriteTimeout, instead of holding the session's writer, and every
	// channel's pending operations, for good. Default
	// DefaultWriteTimeout; a negative value sets none.
	WriteTimeout time.Duration

	// without switches fast paths off, for the tests; zero keeps them all.
	without speedup
}

// A speedup is one of the session's fast paths. Each is an optimisation
// only: switched off (Config.without), the session behaves the same, more
// slowly, and the tests check that it does.
type speedup uint16

const (
	// copyShortWrites: a Write short enough, within the window and the
	// copy budget, is copied into the data queue and returns without
	// waiting for the writer (send.go).
	copyShortWrites speedup = 1 << iota

	// writeInPlace: on sockets, payloads of inPlaceThreshold bytes or more
	// are written from the caller's buffer with writev instead of being
	// copied into the batch (writer.go).
	writeInPlace

	// readVectored: on sockets, the read completing a payload also reads
	// what follows into the input buffer, with readv (input.go).
	readVectored

	// readIntoOffer: a payload for a channel whose Read is waiting goes
	// straight into that Read's buffer, skipping the ring (recv.go).
	readIntoOffer

	// flushOnRead: on sockets, a Read about to wait writes what is queued
	// itself if the writer role is free (writer.go).
	flushOnRead

	// yieldAfterHandoff: after handing a large payload to a Read, the
	// reader goroutine yields so that the Read runs (recv.go).
	yieldAfterHandoff

	// lateCloseReply: the CLOSE answering the peer's waits for the next
	// write instead of waking the writer for a write of its own, for up to
	// closeReplyDelay (reader.go).
	lateCloseReply

	// yieldBeforeBatch: woken for control messages or copied data, the
	// writer goroutine first yields once, so that goroutines ready to run
	// queue theirs into the same batch, for at most maxYield (writer.go).
	yieldBeforeBatch

	// readOnWait: on sockets, a Read about to wait reads the connection
	// itself while the reader goroutine lends it the role, after handing
	// a short payload to a Read (readrole.go).
	readOnWait

	// quietWrites: in a quiet session (quiet.go), short messages are
	// written by the goroutine that queued them at its next Read, Close
	// or Accept instead of by the writer goroutine, woken for them.
	quietWrites

	// lazyAccept: in a quiet session, a channel opened in what a Read
	// holding the read role read waits for that goroutine to take it
	// (TryAccept) rather than waking Accept at once (accept.go).
	lazyAccept
)

// ErrInvalidConfig is matched by the error of Config.Validate.
var ErrInvalidConfig = errors.New("qmux: invalid config")

// withDefaults returns a copy of c (which may be nil) with zero fields set
// to their defaults.
func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.WindowSize == 0 {
		d.WindowSize = DefaultWindowSize
	}
	if d.MaxWindowSize == 0 {
		d.MaxWindowSize = max(DefaultMaxWindowSize, d.WindowSize)
	}
	if d.SessionWindowSize == 0 {
		d.SessionWindowSize = DefaultSessionWindows * int64(d.WindowSize)
	}
	if d.MaxPacketSize == 0 {
		d.MaxPacketSize = DefaultMaxPacketSize
	}
	if d.AcceptBacklog == 0 {
		d.AcceptBacklog = DefaultAcceptBacklog
	}
	if d.MaxChannels == 0 {
		d.MaxChannels = DefaultMaxChannels
	}
	if d.MaxControlBacklog == 0 {
		d.MaxControlBacklog = DefaultMaxControlBacklog
	}
	if d.KeepAlivePeriod == 0 {
		d.KeepAlivePeriod = DefaultKeepAlivePeriod
	}
	if d.KeepAliveTimeout == 0 {
		d.KeepAliveTimeout = DefaultKeepAliveTimeout
	}
	if d.WriteTimeout == 0 {
		d.WriteTimeout = DefaultWriteTimeout
	}
	return d
}

// Validate reports whether the config, with defaults applied, is usable.
func (c *Config) Validate() error {
	d := c.withDefaults()
	switch {
	case d.WindowSize < d.MaxPacketSize:
		return fmt.Errorf("%w: WindowSize %d is below MaxPacketSize %d", ErrInvalidConfig, d.WindowSize, d.MaxPacketSize)
	case d.MaxWindowSize < d.WindowSize:
		return fmt.Errorf("%w: MaxWindowSize %d is below WindowSize %d", ErrInvalidConfig, d.MaxWindowSize, d.WindowSize)
	case d.SessionWindowSize > 0 && d.SessionWindowSize < int64(d.WindowSize):
		return fmt.Errorf("%w: SessionWindowSize %d is below WindowSize %d", ErrInvalidConfig, d.SessionWindowSize, d.WindowSize)
	case d.AcceptBacklog < 0:
		return fmt.Errorf("%w: AcceptBacklog %d is negative", ErrInvalidConfig, d.AcceptBacklog)
	case d.MaxChannels < 0:
		return fmt.Errorf("%w: MaxChannels %d is negative", ErrInvalidConfig, d.MaxChannels)
	case d.MaxControlBacklog < 1024:
		return fmt.Errorf("%w: MaxControlBacklog %d is below 1024", ErrInvalidConfig, d.MaxControlBacklog)
	case d.IdleTimeout < 0 || d.KeepAliveTimeout < 0:
		return fmt.Errorf("%w: negative IdleTimeout or KeepAliveTimeout", ErrInvalidConfig)
	}
	return nil
}
