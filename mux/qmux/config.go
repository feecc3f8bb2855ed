package qmux

import (
	"errors"
	"fmt"
)

// Defaults for the Config fields left zero.
const (
	// DefaultWindowSize is the receive window of each channel: how many
	// bytes the peer may send before it must wait for this side to read.
	// Loopback and LAN round trips are short, so a modest window keeps the
	// pipe full without letting a slow reader make the peer buffer much;
	// 512 KiB rather than 256 KiB halves the window grants of a bulk
	// transfer and lets 64 KiB messages stream without waiting for them.
	DefaultWindowSize = 512 << 10

	// DefaultMaxPacketSize is the largest DATA payload this side accepts,
	// as in SSH.
	DefaultMaxPacketSize = 32 << 10

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
)

// Config tunes a Session. The zero value, like a nil *Config, selects every
// default.
type Config struct {
	// WindowSize is each channel's receive window in bytes, at most
	// 2^32-1 and at least MaxPacketSize. Default DefaultWindowSize.
	WindowSize uint32

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
}

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
	return d
}

// Validate reports whether the config, with defaults applied, is usable.
func (c *Config) Validate() error {
	d := c.withDefaults()
	switch {
	case d.WindowSize < d.MaxPacketSize:
		return fmt.Errorf("%w: WindowSize %d is below MaxPacketSize %d", ErrInvalidConfig, d.WindowSize, d.MaxPacketSize)
	case d.AcceptBacklog < 0:
		return fmt.Errorf("%w: AcceptBacklog %d is negative", ErrInvalidConfig, d.AcceptBacklog)
	case d.MaxChannels < 0:
		return fmt.Errorf("%w: MaxChannels %d is negative", ErrInvalidConfig, d.MaxChannels)
	case d.MaxControlBacklog < 1024:
		return fmt.Errorf("%w: MaxControlBacklog %d is below 1024", ErrInvalidConfig, d.MaxControlBacklog)
	}
	return nil
}
