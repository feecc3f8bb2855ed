package quic

import (
	"context"
	"net"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport"
)

func init() {
	transport.Register("quic", connector{})
}

// configKey is the transport.Options key of WithConfig.
type configKey struct{}

// WithConfig sets the configuration of the sessions of quic addresses
// dialed or listened on through package transport.
func WithConfig(c *Config) transport.Option { return transport.WithValue(configKey{}, c) }

// connector serves quic://host:port addresses for package transport. The
// query of a dial address may pin the server's certificate or skip its
// verification (see transport.ClientTLSConfig).
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
	return Dial(ctx, hostport, cfg, configOf(o))
}

func (connector) Listen(ctx context.Context, a transport.Address, o *transport.Options) (transport.Listener, error) {
	hostport, err := hostPort(a)
	if err != nil {
		return nil, err
	}
	cfg, fp, err := transport.ServerTLSConfig(a, o)
	if err != nil {
		return nil, err
	}
	return listen(ctx, hostport, cfg, fp, configOf(o))
}

// configOf returns the Config set with WithConfig, or nil.
func configOf(o *transport.Options) *Config {
	c, _ := o.Value(configKey{}).(*Config)
	return c
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
