package quic

import (
	"errors"
	"fmt"
	"time"

	quicgo "github.com/quic-go/quic-go"
)

// Defaults for the Config fields left zero.
const (
	// DefaultKeepAlivePeriod is how often an idle connection sends a
	// keep-alive packet, as qmux's DefaultKeepAlivePeriod.
	DefaultKeepAlivePeriod = 15 * time.Second

	// DefaultKeepAliveTimeout is how long after its keep-alive period a
	// connection that received nothing is closed, as qmux's
	// DefaultKeepAliveTimeout: a peer that is gone is found within 30 s.
	DefaultKeepAliveTimeout = 15 * time.Second

	// DefaultMaxIncomingStreams bounds the channels the peer may have open
	// at once, as qmux's DefaultMaxChannels bounds all channels. An Open
	// beyond the peer's limit waits until one of its channels is closed.
	DefaultMaxIncomingStreams = 4096

	// DefaultAcceptBacklog is how many opened channels may wait for
	// Accept. As many again are held unconfirmed (their Open waits); opens
	// beyond both are refused.
	DefaultAcceptBacklog = 256
)

// Config tunes a Session. The zero value, like a nil *Config, selects every
// default. Flow control is quic-go's: each stream's receive window starts
// at 512 KiB and grows up to 6 MiB while the application keeps up, and the
// connection's from 768 KiB up to 15 MiB.
type Config struct {
	// KeepAlivePeriod is the interval of keep-alive packets (QUIC PINGs,
	// which the peer acknowledges) on a connection that received nothing
	// for that long; negative disables them. Default
	// DefaultKeepAlivePeriod. qmux's Config.KeepAlivePeriod has the same
	// name, default and meaning.
	KeepAlivePeriod time.Duration

	// KeepAliveTimeout is how long past the keep-alive period a
	// connection that received nothing, not even the acknowledgement of
	// a keep-alive, waits before it ends: a peer that is gone (or
	// silent) ends the session within KeepAlivePeriod plus
	// KeepAliveTimeout, Wait reporting a *quic.IdleTimeoutError, and
	// every pending operation fails. Their sum is QUIC's idle timeout
	// (the smaller of the two ends' applies); with keep-alives off, a
	// connection that received nothing for KeepAliveTimeout ends. Default
	// DefaultKeepAliveTimeout, as qmux's Config.KeepAliveTimeout.
	KeepAliveTimeout time.Duration

	// IdleTimeout ends a session that has had no channel open and
	// received no data for that long, as qmux's Config.IdleTimeout: a
	// peer that connects and opens nothing, or opens streams and never
	// completes their open header, is cut off. Keep-alive packets are not
	// activity, so a live peer that makes no calls is let go too. 0 (the
	// default) never ends a session for it; servers set it (package
	// transport/quic's listeners do, see
	// transport.DefaultServerIdleTimeout). The session ends, closing the
	// connection as Close does, within IdleTimeout and a quarter, and
	// Wait reports an error matching ErrIdleTimeout (mux.ErrIdleTimeout,
	// which qmux's sessions report too).
	IdleTimeout time.Duration

	// MaxIncomingStreams is the number of channels the peer may have open
	// at once. Default DefaultMaxIncomingStreams.
	MaxIncomingStreams int64

	// AcceptBacklog is the number of opened channels waiting for Accept.
	// Default DefaultAcceptBacklog.
	AcceptBacklog int

	// EarlyOpen makes Open return as soon as the stream is open and the
	// open header sent, without waiting a round trip for the peer's
	// confirmation. Open still waits while the peer's MaxIncomingStreams
	// are open, and ctx still bounds it.
	//
	// This departs from the mux.Session contract, under which Open
	// reports a refusal: here a channel refused by the peer (its Accept
	// backlog full, or its session closing) is returned by Open all the
	// same, and its first Read fails with an error matching
	// mux.ErrOpenRejected, as does a Write once the refusal has arrived
	// (the data written before is discarded). The stream is then
	// cancelled; the channel still needs its Close. Nor does a returned
	// Open mean that the peer has the channel: channels opened one after
	// another may reach the peer's Accept in another order. Use it where
	// a call reads its response anyway, so that a refusal shows there.
	//
	// Default false: Open waits for the confirmation. The open header
	// tells the peer which kind of open it is, so the two ends may choose
	// differently; EarlyOpen changes only this end's Open (and spares the
	// peer writing the confirmation).
	EarlyOpen bool
}

// ErrInvalidConfig is matched by the error of Config.Validate.
var ErrInvalidConfig = errors.New("quic: invalid config")

// withDefaults returns a copy of c (which may be nil) with zero fields set
// to their defaults.
func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.KeepAlivePeriod == 0 {
		d.KeepAlivePeriod = DefaultKeepAlivePeriod
	}
	if d.KeepAliveTimeout == 0 {
		d.KeepAliveTimeout = DefaultKeepAliveTimeout
	}
	if d.MaxIncomingStreams == 0 {
		d.MaxIncomingStreams = DefaultMaxIncomingStreams
	}
	if d.AcceptBacklog == 0 {
		d.AcceptBacklog = DefaultAcceptBacklog
	}
	return d
}

// Validate reports whether the config, with defaults applied, is usable.
func (c *Config) Validate() error {
	d := c.withDefaults()
	switch {
	case d.IdleTimeout < 0:
		return fmt.Errorf("%w: IdleTimeout %v is negative", ErrInvalidConfig, d.IdleTimeout)
	case d.KeepAliveTimeout < 0:
		return fmt.Errorf("%w: KeepAliveTimeout %v is negative", ErrInvalidConfig, d.KeepAliveTimeout)
	case d.MaxIncomingStreams < 0:
		return fmt.Errorf("%w: MaxIncomingStreams %d is negative", ErrInvalidConfig, d.MaxIncomingStreams)
	case d.AcceptBacklog < 0:
		return fmt.Errorf("%w: AcceptBacklog %d is negative", ErrInvalidConfig, d.AcceptBacklog)
	}
	return nil
}

// quicConfig returns the quic-go configuration for c (with defaults
// applied).
func (c *Config) quicConfig() *quicgo.Config {
	d := c.withDefaults()
	return &quicgo.Config{
		KeepAlivePeriod:       max(d.KeepAlivePeriod, 0),
		MaxIdleTimeout:        d.maxIdleTimeout(),
		MaxIncomingStreams:    d.MaxIncomingStreams,
		MaxIncomingUniStreams: -1, // qtalk uses bidirectional streams only
	}
}

// maxIdleTimeout is quic-go's idle timeout for d (with defaults applied):
// the keep-alive period, if keep-alives are on, plus the keep-alive
// timeout.
func (d *Config) maxIdleTimeout() time.Duration {
	return max(d.KeepAlivePeriod, 0) + d.KeepAliveTimeout
}
