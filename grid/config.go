package grid

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/qtalkkit/qtalk/transport"
)

// Defaults of a Config's zero fields.
const (
	DefaultPingInterval = time.Second
	DefaultPingTimeout  = 2 * time.Second
	DefaultDialTimeout  = 5 * time.Second
	DefaultReconnectMin = 100 * time.Millisecond
	DefaultReconnectMax = 5 * time.Second
)

// A Config configures a Manager. Zero fields take the defaults above.
type Config struct {
	// Self is this host's address (see transport.ParseAddress): the
	// address it listens on and the name the other hosts know it by.
	Self string

	// Hosts are the addresses of every host of the cluster, Self
	// included or not. Every host must be given the same set.
	Hosts []string

	// PingInterval is how often each side pings a link; PingTimeout is how
	// long a ping may take. A link whose ping fails is closed, so a silent
	// peer is found within PingInterval+PingTimeout.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// DialTimeout bounds each attempt to dial a host and greet it, and
	// how long an accepted session may take to greet.
	DialTimeout time.Duration

	// ReconnectMin is the wait after the first failed dial; the waits
	// double, with jitter, up to ReconnectMax.
	ReconnectMin time.Duration
	ReconnectMax time.Duration

	// TransportOptions are passed to transport.Dial and transport.Listen.
	TransportOptions []transport.Option

	// Listener, if set, is a listener already open on Self, which Start
	// serves instead of listening itself (tests listen on port 0 first to
	// learn the addresses). The Manager closes it.
	Listener transport.Listener

	// Logger records links going up and down; nil logs nothing.
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields set to the defaults, its
// addresses canonical and Self left out of Hosts, or an error matching
// ErrBadConfig.
func (c Config) withDefaults() (Config, error) {
	self, err := canonical(c.Self)
	if err != nil {
		return c, fmt.Errorf("%w: self: %w", ErrBadConfig, err)
	}
	c.Self = self
	var hosts []string
	for _, h := range c.Hosts {
		a, err := canonical(h)
		if err != nil {
			return c, fmt.Errorf("%w: host: %w", ErrBadConfig, err)
		}
		if a != self && !slices.Contains(hosts, a) {
			hosts = append(hosts, a)
		}
	}
	c.Hosts = hosts
	setDefault(&c.PingInterval, DefaultPingInterval)
	setDefault(&c.PingTimeout, DefaultPingTimeout)
	setDefault(&c.DialTimeout, DefaultDialTimeout)
	setDefault(&c.ReconnectMin, DefaultReconnectMin)
	setDefault(&c.ReconnectMax, DefaultReconnectMax)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// canonical returns the canonical form of a host address, by which hosts
// are compared.
func canonical(addr string) (string, error) {
	a, err := transport.ParseAddress(addr)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}
