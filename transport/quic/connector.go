package quic

import (
	"context"
	"errors"
	"net"

	"github.com/qtalkkit/qtalk/mux"
	muxquic "github.com/qtalkkit/qtalk/mux/quic"
	"github.com/qtalkkit/qtalk/transport"
)

func init() {
	transport.Register("quic", connector{})
}

// configKey is the transport.Options key of WithConfig.
type configKey struct{}

// WithConfig sets the configuration of the sessions of quic addresses
// dialed or listened on.
func WithConfig(c *muxquic.Config) transport.Option { return transport.WithValue(configKey{}, c) }

// connector serves quic://host:port addresses. The query of a dial address
// may pin the server's certificate or skip its verification (see
// transport.ClientTLSConfig).
type connector struct{}

func (connector) Dial(ctx context.Context, a transport.Address, o *transport.Options) (mux.Session, error) {
	hostport, err := hostPort(a)
	if err != nil {
		return nil, err
	}
	cfg, err := transport.ClientTLSConfig(a, o)
	if err != nil {
		return nil, err
	}
	return muxquic.Dial(ctx, hostport, cfg, configOf(o))
}

func (connector) Listen(ctx context.Context, a transport.Address, o *transport.Options) (transport.Listener, error) {
	hostport, err := hostPort(a)
	if err != nil {
		return nil, err
	}
	cfg, _, err := transport.ServerTLSConfig(a, o)
	if err != nil {
		return nil, err
	}
	ln, err := muxquic.Listen(ctx, hostport, cfg, serverConfig(o))
	if err != nil {
		return nil, err
	}
	return listener{ln}, nil
}

// listener is a mux/quic Listener whose Accept fails with
// transport.ErrListenerClosed once it is closed, as a transport.Listener's
// must. Its Fingerprint is the certificate's.
type listener struct{ *muxquic.Listener }

var (
	_ transport.Listener      = listener{}
	_ transport.Fingerprinter = listener{}
)

func (l listener) Accept(ctx context.Context) (mux.Session, error) {
	s, err := l.Listener.Accept(ctx)
	if errors.Is(err, muxquic.ErrListenerClosed) {
		return nil, transport.ErrListenerClosed
	}
	return s, err
}

// configOf returns the Config set with WithConfig, or nil.
func configOf(o *transport.Options) *muxquic.Config {
	c, _ := o.Value(configKey{}).(*muxquic.Config)
	return c
}

// serverConfig returns the Config of the sessions a listener accepts: the
// one set with WithConfig, with the listener's idle timeout
// (transport.Options.IdleTimeout, transport.DefaultServerIdleTimeout by
// default) unless it sets one, as byte-stream listeners give qmux's.
func serverConfig(o *transport.Options) *muxquic.Config {
	var c muxquic.Config
	if cfg := configOf(o); cfg != nil {
		c = *cfg
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = o.ServerIdleTimeout()
	}
	return &c
}

// hostPort returns the host:port of a quic address and checks that it has
// nothing else.
func hostPort(a transport.Address) (string, error) {
	if a.Opaque != "" || (a.Path != "" && a.Path != "/") {
		return "", &transport.AddressError{Addr: a.String(), Reason: "want quic://host:port"}
	}
	if _, port, err := net.SplitHostPort(a.Host); err != nil || port == "" {
		return "", &transport.AddressError{Addr: a.String(), Reason: "missing port"}
	}
	return a.Host, nil
}
