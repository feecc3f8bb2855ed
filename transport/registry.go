package transport

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/qtalkkit/qtalk/mux"
)

// A Connector dials and listens on the addresses of one scheme. It is
// registered under the scheme's name with Register. Its methods may be
// called concurrently.
//
// ctx bounds only the setup (connecting, the handshake, binding the
// listener): the session or listener returned outlives it. o is never nil;
// a connector reads the options it understands and ignores the rest.
// Addresses reach the connector already parsed; Subport is for the layers
// above and is ignored.
type Connector interface {
	Dial(ctx context.Context, a Address, o *Options) (mux.Session, error)
	Listen(ctx context.Context, a Address, o *Options) (Listener, error)
}

// A Listener accepts sessions from the peers that dial it.
type Listener interface {
	// Accept waits for the next session, until ctx is done or the listener
	// is closed (then it fails with ErrListenerClosed). The session belongs
	// to the caller.
	Accept(ctx context.Context) (mux.Session, error)

	// Close stops listening and makes pending and later Accepts fail. It
	// does not close the sessions already accepted.
	Close() error

	// Addr is the address listened on, for example the TCP address with
	// the port the system chose for port 0.
	Addr() net.Addr
}

// An entry is a registered connector.
type entry struct {
	name   string // the scheme it is registered under (not an alias)
	c      Connector
	syntax syntax
}

// registry maps schemes and aliases to connectors.
var registry struct {
	mu      sync.RWMutex // guards schemes
	schemes map[string]*entry
}

// Register makes c available under the scheme name and its aliases, for
// Dial, Listen and ParseAddress. Names are URL schemes in lower case
// ("quic", "my-proto"). Like database/sql.Register, it is meant to be
// called from an init function, and it panics if c is nil, a name is not a
// valid scheme, or a name is already registered.
//
// Addresses of connectors registered from other packages are parsed in the
// generic URL form: scheme://host[:port][/path][?query] (or the compact
// scheme/host[:port]...) into Host, Path and RawQuery, or scheme:opaque
// into Opaque; the connector checks what it requires, such as a port.
func Register(name string, c Connector, aliases ...string) {
	if c == nil {
		panic("transport: Register of a nil connector for " + name)
	}
	e := &entry{name: name, c: c}
	if s, ok := c.(interface{ addressSyntax() syntax }); ok {
		e.syntax = s.addressSyntax()
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.schemes == nil {
		registry.schemes = make(map[string]*entry)
	}
	names := append([]string{name}, aliases...)
	for _, n := range names {
		if !validScheme(n) {
			panic(fmt.Sprintf("transport: Register of invalid scheme %q", n))
		}
		if _, dup := registry.schemes[n]; dup {
			panic(fmt.Sprintf("transport: Register called twice for scheme %q", n))
		}
	}
	for _, n := range names {
		registry.schemes[n] = e
	}
}

// lookup returns the entry for scheme, or nil.
func lookup(scheme string) *entry {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	return registry.schemes[scheme]
}

// Dial connects to addr (see ParseAddress) with the connector registered
// for its scheme and returns the session. ctx bounds connecting only.
func Dial(ctx context.Context, addr string, opts ...Option) (mux.Session, error) {
	a, e, err := parseAddress(addr)
	if err != nil {
		return nil, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	s, err := e.c.Dial(ctx, a, o)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", a, err)
	}
	return s, nil
}

// Listen listens on addr (see ParseAddress) with the connector registered
// for its scheme. ctx bounds setting up the listener only.
func Listen(ctx context.Context, addr string, opts ...Option) (Listener, error) {
	a, e, err := parseAddress(addr)
	if err != nil {
		return nil, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	l, err := e.c.Listen(ctx, a, o)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", a, err)
	}
	return l, nil
}

func init() {
	Register("tcp", netConnector{network: "tcp"})
	Register("unix", netConnector{network: "unix"})
	Register("tls", tlsConnector{})
	Register("ws", wsConnector{secure: false}, "websocket")
	Register("wss", wsConnector{secure: true})
	Register("stdio", stdioConnector{})
	Register("exec", execConnector{})
}
