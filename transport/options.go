package transport

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"time"

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

	// HTTPHandler serves the requests a ws or wss listener gets that are
	// not for its WebSocket: those for other paths than the listener's,
	// or, for a listener without a path, those that are not WebSocket
	// upgrades. Nil answers them 404 Not Found (426 Upgrade Required
	// without a path).
	HTTPHandler http.Handler

	// AllowedOrigins are the host patterns of the web origins, besides
	// the server's own, whose pages may open WebSockets to ws and wss
	// listeners and WebSocketHandlers (see WithAllowedOrigins). Nil
	// allows only the server's own origin.
	AllowedOrigins []string

	// OriginRefused, if not nil, is called with the Origin header of
	// each WebSocket upgrade refused because its origin is not allowed
	// (the request is answered 403 Forbidden), so the server can log it.
	OriginRefused func(origin string, r *http.Request)

	// MaxConns bounds the connections a listener holds at once, from
	// accept until they are closed; past it, a new connection is closed
	// as soon as it is accepted. 0 selects DefaultMaxConns, a negative
	// value removes the limit.
	MaxConns int

	// MaxConnsPerIP bounds the connections a listener holds at once from
	// one remote IP address, as MaxConns does in total. 0 selects
	// DefaultMaxConnsPerIP, a negative value removes the limit.
	MaxConnsPerIP int

	// HandshakeTimeout bounds the server side of a TLS handshake and of
	// a WebSocket upgrade (the request's headers). 0 selects
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// IdleTimeout ends a session a listener accepted once it has had no
	// channel open and received no data for that long (see
	// qmux.Config.IdleTimeout), unless SessionConfig sets one. 0 selects
	// DefaultServerIdleTimeout, a negative value none. Listeners of other
	// packages' schemes apply it too (transport/quic, as
	// quic.Config.IdleTimeout; see ServerIdleTimeout).
	IdleTimeout time.Duration

	// Logger receives what listeners report: accept failures they ride
	// out and connections refused over a limit, at most one record of
	// each per AcceptErrorLogInterval. Nil selects slog.Default().
	Logger *slog.Logger

	values map[any]any // set by WithValue
}

// ErrBadOriginPattern reports an allowed-origin pattern that is not a
// valid path.Match pattern. It matches path.ErrBadPattern too.
var ErrBadOriginPattern = fmt.Errorf("transport: bad origin pattern: %w", path.ErrBadPattern)

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

// WithHTTPHandler makes ws and wss listeners serve h for the requests
// that are not for their WebSocket, such as a web page that connects to
// it (see Options.HTTPHandler). Other schemes ignore it.
func WithHTTPHandler(h http.Handler) Option {
	return func(o *Options) { o.HTTPHandler = h }
}

// WithAllowedOrigins allows web pages of other origins than the server's
// own to open WebSockets to ws and wss listeners and WebSocketHandlers.
// Each pattern is matched, case-insensitively and with path.Match, against
// the host (and port) of the request's Origin header, or against
// "scheme://host" if the pattern contains "://", as
// websocket.AcceptOptions.OriginPatterns does: "localhost:5173",
// "*.example.com", "https://app.example.com". A request whose Origin
// names the Host it was sent to is always allowed, as is one without an
// Origin (not from a browser). Other upgrades are answered 403 Forbidden
// (see WithOriginRefused). Listen fails with an error matching
// ErrBadOriginPattern for a malformed or empty pattern. Other schemes
// ignore them.
//
// An allowed origin's pages can call the server with their user's
// browser, so allow only the origins of pages you trust.
func WithAllowedOrigins(patterns ...string) Option {
	return func(o *Options) { o.AllowedOrigins = append(o.AllowedOrigins, patterns...) }
}

// WithOriginRefused sets a function called with the origin of every
// WebSocket upgrade refused because of it, so that the server can log it
// (libraries do not). It runs on the request's goroutine and must not
// block.
func WithOriginRefused(f func(origin string, r *http.Request)) Option {
	return func(o *Options) { o.OriginRefused = f }
}

// checkOriginPatterns returns an error matching ErrBadOriginPattern for
// the first malformed pattern, or an empty one, which would match no
// origin (as talk/config refuses it). (websocket.Accept would refuse
// every origin it does not match first and log the pattern with package
// log.)
func checkOriginPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); p == "" || err != nil {
			return fmt.Errorf("%w: %q", ErrBadOriginPattern, p)
		}
	}
	return nil
}

// WithConnLimits sets the most connections a listener holds at once, in
// total and from one remote IP address (see Options.MaxConns and
// Options.MaxConnsPerIP).
func WithConnLimits(total, perIP int) Option {
	return func(o *Options) { o.MaxConns, o.MaxConnsPerIP = total, perIP }
}

// WithHandshakeTimeout sets how long a listener waits for a TLS handshake
// or a WebSocket upgrade to complete.
func WithHandshakeTimeout(d time.Duration) Option {
	return func(o *Options) { o.HandshakeTimeout = d }
}

// WithIdleTimeout sets how long a session a listener accepted may have no
// channel open and receive no data (see Options.IdleTimeout).
func WithIdleTimeout(d time.Duration) Option {
	return func(o *Options) { o.IdleTimeout = d }
}

// WithLogger sets the logger of the listeners' reports (see
// Options.Logger).
func WithLogger(l *slog.Logger) Option {
	return func(o *Options) { o.Logger = l }
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
	if err := checkOriginPatterns(o.AllowedOrigins); err != nil {
		return nil, err
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
	return newSession(conn, cfg)
}

// newSession is NewSession with the config cfg.
func newSession(conn io.ReadWriteCloser, cfg *qmux.Config) (mux.Session, error) {
	s, err := qmux.New(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("transport: %w", err)
	}
	return s, nil
}
