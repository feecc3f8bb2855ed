package relay

import "time"

// Defaults of a Config's zero fields.
const (
	DefaultBufferSize       = 32 << 10
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultDialTimeout      = 10 * time.Second
)

// A Config tunes pipes. A nil *Config, or a zero field, takes the
// default.
type Config struct {
	// BufferSize is the size of the buffer of each direction of a pipe:
	// the most bytes a pipe holds that one end wrote and the other has
	// not taken. Default DefaultBufferSize.
	BufferSize int

	// IdleTimeout ends a pipe that moved no byte either way for that
	// long; 0 never does. A route's own IdleTimeout replaces it.
	IdleTimeout time.Duration

	// HandshakeTimeout bounds reading a client's preamble on a listener
	// of subports and, when dialing, waiting for the answer or for the
	// reply of a label's call. Default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// DialTimeout bounds a router's connecting to a route's target.
	// Default DefaultDialTimeout.
	DialTimeout time.Duration
}

// withDefaults returns a copy of c with its zero fields set.
func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.BufferSize <= 0 {
		d.BufferSize = DefaultBufferSize
	}
	if d.HandshakeTimeout <= 0 {
		d.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if d.DialTimeout <= 0 {
		d.DialTimeout = DefaultDialTimeout
	}
	return d
}
