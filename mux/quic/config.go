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
	// keep-alive packet. Half the idle timeout keeps an idle session up,
	// as an idle TCP connection stays up under qmux.
	DefaultKeepAlivePeriod = 15 * time.Second

	// DefaultMaxIdleTimeout is how long a connection may receive nothing
	// before it is closed (the smaller of the two ends' values applies).
	// With keep-alives on, only a peer that is gone reaches it.
	DefaultMaxIdleTimeout = 30 * time.Second

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
	// KeepAlivePeriod is the interval of keep-alive packets on an idle
	// connection; negative disables them. Default DefaultKeepAlivePeriod.
	KeepAlivePeriod time.Duration

	// MaxIdleTimeout closes a connection that received nothing for that
	// long. Default DefaultMaxIdleTimeout.
	MaxIdleTimeout time.Duration

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
	if d.MaxIdleTimeout == 0 {
		d.MaxIdleTimeout = DefaultMaxIdleTimeout
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
	case d.MaxIdleTimeout < 0:
		return fmt.Errorf("%w: MaxIdleTimeout %v is negative", ErrInvalidConfig, d.MaxIdleTimeout)
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
		MaxIdleTimeout:        d.MaxIdleTimeout,
		MaxIncomingStreams:    d.MaxIncomingStreams,
		MaxIncomingUniStreams: -1, // qtalk uses bidirectional streams only
	}
}
