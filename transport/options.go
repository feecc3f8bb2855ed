package transport

import (
	"crypto/tls"
	"fmt"
	"io"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
)

// Options are the settings Dial and Listen pass to a connector, built from
// the Option arguments.
type Options struct {
	// SessionConfig configures the qmux sessions of byte-stream
	// connectors; nil selects the defaults. Dial and Listen validate it.
	SessionConfig *qmux.Config

	// TLSConfig is the TLS configuration of secure schemes (tls, wss,
	// quic). A wss listener needs one with a certificate; tls and quic
	// listeners without one use a self-signed certificate (see
	// ServerTLSConfig). A dialer without one uses the system roots unless
	// the server's certificate is pinned (see WithPin). Connectors clone
	// it before use.
	TLSConfig *tls.Config

	values map[any]any // set by WithValue
}

// An Option sets a field of Options.
type Option func(*Options)

// WithSessionConfig sets the qmux configuration of the sessions.
func WithSessionConfig(c *qmux.Config) Option {
	return func(o *Options) { o.SessionConfig = c }
}

// WithTLSConfig sets the TLS configuration of secure schemes.
func WithTLSConfig(c *tls.Config) Option {
	return func(o *Options) { o.TLSConfig = c }
}

// WithValue sets an option for a connector of another package, which reads
// it with Options.Value. As with context values, key should be of an
// unexported type of that package; that package usually offers a typed
// wrapper (func WithFooConfig(c *Config) transport.Option).
func WithValue(key, value any) Option {
	return func(o *Options) {
		if o.values == nil {
			o.values = make(map[any]any)
		}
		o.values[key] = value
	}
}

// Value returns the value set with WithValue for key, or nil.
func (o *Options) Value(key any) any { return o.values[key] }

// newOptions applies opts and validates the result.
func newOptions(opts []Option) (*Options, error) {
	o := new(Options)
	for _, opt := range opts {
		opt(o)
	}
	if err := o.SessionConfig.Validate(); err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return o, nil
}

// NewSession starts a qmux session over conn with o.SessionConfig (o may
// be nil), for connectors whose connections are byte streams. The session
// owns conn; if the config is invalid, conn is closed and the error
// matches qmux.ErrInvalidConfig.
func NewSession(conn io.ReadWriteCloser, o *Options) (mux.Session, error) {
	var cfg *qmux.Config
	if o != nil {
		cfg = o.SessionConfig
	}
	if err := cfg.Validate(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("transport: %w", err)
	}
	return qmux.New(conn, cfg), nil
}
