package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/transport"
)

// Defaults of the settings a config leaves out.
const (
	DefaultMaxFrameSize    = 4 << 20
	DefaultDialTimeout     = 10 * time.Second
	DefaultReconnectMin    = 100 * time.Millisecond
	DefaultReconnectMax    = 10 * time.Second
	DefaultWatchInterval   = 2 * time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 10 * time.Second

	// The defaults of process services (exec: providers and src).
	DefaultStopTimeout  = 5 * time.Second // from SIGTERM to SIGKILL
	DefaultPingInterval = 5 * time.Second // how often a child is pinged
	DefaultPingTimeout  = 5 * time.Second // how long a ping may take before the child counts as hung

	DefaultResolveEvery = 5 * time.Second // of a DNS provider: the longest wait between two lookups
	MinResolveWait      = time.Second     // the shortest wait a record's TTL makes (a TTL of 0 too)
	DefaultHealthEvery  = 5 * time.Second // of a provider of many endpoints
)

// The balancing policies of a service with many endpoints.
const (
	BalanceRoundRobin       = "round_robin"       // in turn, by SRV weight (the default)
	BalanceLeastOutstanding = "least_outstanding" // the endpoint with the fewest calls in flight
	BalanceHash             = "hash"              // by the value of the label parameter HashParam
)

// The schemes of the providers whose endpoints DNS gives:
// "dns://name:port" (A and AAAA records, each address an endpoint at
// port) and "dns+srv://_service._proto.name" (SRV records: targets,
// ports, priorities and weights). Their endpoints are dialed with the
// service's Scheme, one of DNSSchemes.
const (
	SchemeDNS    = "dns"
	SchemeDNSSRV = "dns+srv"
)

// DNSSchemes are the transports a DNS provider's endpoints may be dialed
// with (the service's scheme), the default first. Over tls and quic the
// name the upstream's certificate must hold is the SRV target, or the
// name of a dns:// provider.
var DNSSchemes = []string{"tcp", "tls", "quic"}

// When a process service's child starts: at the first call or
// subscription (the default), or when the server starts.
const (
	StartOnDemand = "on_demand"
	StartStartup  = "startup"
)

// SrcScheme begins the Provider of a service built from source: "src:"
// and its module@version.
const SrcScheme = "src:"

// ProviderLocal is the provider of the services that run in the server.
const ProviderLocal = "local"

// ProviderTable is the provider of table services: the server answers
// get and list from a TOML or JSON file. Parse makes such a service a
// local one of module TableModule, with the file's path in the option
// "file".
const (
	ProviderTable = "table"
	TableModule   = "qtalk/table"
)

// Bounds of the settings.
const (
	MaxRetries = 10 // the most retries a service may have

	defaultFileName    = "qtalk.toml"
	reservedModule     = "qtalk" // the built-in labels
	maxListen          = 64
	maxAllowOrigins    = 256
	minFrameSize       = 1 << 10
	maxFrameSize       = 1 << 30
	maxDuration        = 24 * time.Hour
	maxCount           = 1 << 30 // sessions, calls, breaker failures
	maxIdempotentNames = 1024
	maxEndpoints       = 256 // addresses in a provider's list
)

// A Config is the configuration of a server, as read from qtalk.toml.
// Parse fills in the defaults, so every field holds the value in effect.
type Config struct {
	// File is the name given to Parse, or the path given to Load.
	File string

	// Listen are the transport addresses to listen on, in order.
	Listen []string

	// ListenTLS are the certificate files of the listeners of Listen
	// that name them (listen = [{ addr = "wss://...", cert = "...",
	// key = "...", ca = "..." }]), by address; relative paths are made
	// relative to the directory of File.
	ListenTLS map[string]transport.TLSFiles

	// AllowOrigins are the patterns of the web origins whose pages may
	// open WebSockets to the ws and wss listeners, besides a listener's
	// own origin, which is always allowed: host patterns such as
	// "localhost:5173" or "*.example.com", or with a scheme,
	// "https://app.example.com" (see transport.WithAllowedOrigins).
	AllowOrigins []string

	// Tokens is the file of the bearer tokens calls may carry (see
	// package rpc/auth: "NAME TOKEN" lines), "" for none. A call whose
	// token is not in it is refused as unauthenticated; a valid token
	// makes its caller "token:NAME" for the services' Allow rules.
	Tokens string

	// WatchInterval is how often the file is checked for changes; 0
	// means never (SIGHUP still reloads it).
	WatchInterval time.Duration

	Limits Limits

	// Services are the services by name, the module part of their labels.
	Services map[string]*Service

	// Routes are the raw byte-stream routes of the [routes] table, in
	// the order of the file (see package relay).
	Routes []*Route

	// Grid, if set, makes the server a host of a grid (package grid).
	Grid *Grid

	// CacheDir holds the programs built for the services from source
	// (Service.Src), by module@version; "" means the qtalk directory of
	// the user's cache directory (os.UserCacheDir).
	CacheDir string
}

// A Route is one entry of the routes table: the connections accepted on
// From are piped to new connections to To.
type Route struct {
	// Name is the route's key.
	Name string

	// From is the address listened on; with "!subport", clients name
	// the subport in a preamble (spec/pipe.md), and routes with other
	// subports may share the address.
	From string

	// To is the address dialed for each connection: raw, "!label" for a
	// qtalk call's byte stream, or "!subport" for a listener of routes.
	To string

	// MaxConns bounds the connections at once; 0 for no bound.
	MaxConns int

	// IdleTimeout ends a connection idle for that long; 0 for never.
	IdleTimeout time.Duration

	// Line is the line of the route's key in the file.
	Line int
}

// Grid is the [grid] table: the hosts of a grid, this server among them.
// The server listens on Self for the other hosts, besides Listen. Changes
// take effect on restart, not on reload.
type Grid struct {
	Self  string   // this server's address in the grid
	Hosts []string // every host's address, Self included or not

	// PingInterval and PingTimeout bound how long a silent host takes to
	// be found (0: the grid package's defaults, 1s and 2s).
	PingInterval time.Duration
	PingTimeout  time.Duration
}

// Limits bound what a server takes on.
type Limits struct {
	MaxFrameSize int // the largest rpc frame accepted, in bytes
	MaxSessions  int // client sessions at once; 0 for no limit
	MaxCalls     int // calls in flight at once, over all sessions; 0 for no limit

	DialTimeout  time.Duration // bounds each attempt to reach an upstream
	ReconnectMin time.Duration // the first wait after a failed attempt
	ReconnectMax time.Duration // the longest wait, as the waits double
}

// A Service is one entry of the services table.
type Service struct {
	// Name is the service's key: the module of the labels it answers.
	Name string

	// Provider is ProviderLocal or the transport address of the upstream,
	// without its "!name" suffix if it had one; for a service built from
	// source, SrcScheme and Src; for a list of addresses, the addresses
	// joined by ", "; or a DNS name, "dns://name:port" or
	// "dns+srv://_service._proto.name", whose records give the endpoints.
	Provider string

	// Src is the module@version whose main package a service built from
	// source runs (src = "example.net/chat@v1.0.2", or "#v1.0.2"): a
	// pinned version, never a query such as latest.
	Src string

	// Process is the supervision of the child of a process service
	// (an exec: provider or Src); zero for other services.
	Process Process

	// Endpoints are the addresses of a provider given as a list, one
	// endpoint each; nil otherwise.
	Endpoints []string

	// Balance is the policy that picks the endpoint of each call when the
	// provider has many: BalanceRoundRobin ("" too, the default),
	// BalanceLeastOutstanding or BalanceHash.
	Balance string

	// HashParam is the label parameter whose value BalanceHash hashes:
	// calls with the same value reach the same endpoint while it is
	// healthy (rendezvous hashing); calls without it go round robin.
	HashParam string

	// ResolveEvery is the longest wait before a DNS provider's name is
	// resolved again (DefaultResolveEvery). The wait is shorter when the
	// records of the last answer live less: their smallest TTL, but no
	// less than MinResolveWait (a ResolveEvery below that is kept).
	ResolveEvery time.Duration

	// Scheme is the transport a DNS provider's endpoints are dialed with,
	// one of DNSSchemes ("tcp" by default); "" for other providers.
	Scheme string

	// HealthEvery is how often each endpoint of a provider of many is
	// pinged (qtalk:ping, bounded by the same time); a failed ping counts
	// as a failure for the endpoint's breaker. 0 turns the checks off;
	// the default is DefaultHealthEvery for a list or DNS provider, 0 for
	// one address.
	HealthEvery time.Duration

	// Module is the import path of the module of a local service.
	Module string

	// Options are the free-form options of a local service's module.
	Options map[string]any

	// Service is the name the upstream serves the service under: the
	// module of the labels the calls are forwarded as. It defaults to
	// Name.
	Service string

	// Host is a host name labels may give to reach the upstream directly
	// (host/service:name), besides the provider address's host.
	Host string

	// Timeout bounds each call; 0 for none but the caller's.
	Timeout time.Duration

	// Retries is how many more times an idempotent call is tried when
	// the upstream is unavailable.
	Retries int

	// Idempotent are the names of the calls that may be tried again: a
	// name, or a prefix followed by "*" ("*" for all of them).
	Idempotent []string

	// Fallback names the service that takes the calls this one cannot:
	// those that fail before reaching the upstream, and idempotent ones
	// the upstream failed.
	Fallback string

	// Breaker is the circuit breaker of an upstream service; with many
	// endpoints (Many), each endpoint has one with these settings, and
	// the service's counts only the calls no endpoint could take.
	Breaker Breaker

	// Allow, if not nil, lists who may call the service: verified client
	// certificate identities (the certificate's first URI SAN, such as
	// "spiffe://example.org/app", or else its common name) and
	// "token:NAME" for the callers with a valid bearer token of NAME
	// (see Config.Tokens). Others are refused with permission_denied.
	Allow []string

	// TLS are the files of an upstream service's TLS settings: the
	// client certificate and key it presents (cert, key) and the CAs it
	// verifies the upstream's certificate against (ca). Services with the
	// same provider have the same files.
	TLS transport.TLSFiles

	// Line is the line of the service's key in the file.
	Line int

	lines map[string]int // the lines of the service's keys
}

// Process says how the child program of a process service is run.
type Process struct {
	// Start is StartOnDemand or StartStartup.
	Start string

	// StopTimeout is how long a child has to exit after SIGTERM before
	// it is killed.
	StopTimeout time.Duration

	// PingInterval is how often the child is sent qtalk:ping, 0 for
	// never; a child that does not answer within PingTimeout is hung:
	// it is stopped and started again.
	PingInterval time.Duration
	PingTimeout  time.Duration
}

// IsProcess reports whether the service runs a child program of its own:
// an exec: provider or a service built from source.
func (s *Service) IsProcess() bool {
	return s.Src != "" || strings.HasPrefix(s.Provider, "exec:")
}

// A Breaker opens after Failures calls in a row failed to reach the
// upstream: calls then fail at once (or go to the fallback) for
// Cooldown, after which one call probes the upstream. Failures 0 turns
// the breaker off.
type Breaker struct {
	Failures int
	Cooldown time.Duration
}

// Many reports whether the provider may have many endpoints: a list or a
// DNS name. Each endpoint then has a breaker of its own, with the
// settings of Breaker.
func (s *Service) Many() bool {
	return len(s.Endpoints) > 1 || IsDNSProvider(s.Provider)
}

// IsDNSProvider reports whether provider is a DNS name (SchemeDNS or
// SchemeDNSSRV).
func IsDNSProvider(provider string) bool {
	return strings.HasPrefix(provider, SchemeDNS+"://") || strings.HasPrefix(provider, SchemeDNSSRV+"://")
}

// Local reports whether the service runs in the server.
func (s *Service) Local() bool { return s.Provider == ProviderLocal || s.Provider == ProviderTable }

// KeyLine returns the line of the service's key, such as "timeout", or
// the line of the service itself if the key is not set.
func (s *Service) KeyLine(key string) int {
	if l, ok := s.lines[key]; ok {
		return l
	}
	return s.Line
}

// SameBackend reports whether s and t run the same thing: the same name
// and provider, and the same module and options or upstream service and
// process settings. Their other settings (timeouts, retries, breaker, ...) may differ.
func (s *Service) SameBackend(t *Service) bool {
	return s.Name == t.Name && s.Provider == t.Provider && s.Module == t.Module &&
		s.Process == t.Process && s.Service == t.Service && s.TLS == t.TLS && reflect.DeepEqual(s.Options, t.Options) &&
		s.Balance == t.Balance && s.HashParam == t.HashParam && s.ResolveEvery == t.ResolveEvery && s.Scheme == t.Scheme &&
		s.HealthEvery == t.HealthEvery && (!s.Many() || s.Breaker == t.Breaker)
}

// Equal reports whether s and t have the same settings, lines aside.
func (s *Service) Equal(t *Service) bool {
	return s.SameBackend(t) && s.Host == t.Host && s.Timeout == t.Timeout &&
		s.Retries == t.Retries && slices.Equal(s.Idempotent, t.Idempotent) &&
		s.Fallback == t.Fallback && s.Breaker == t.Breaker && slices.Equal(s.Allow, t.Allow)
}

// Default returns the config of a file with nothing in it.
func Default() *Config {
	return &Config{
		File:          defaultFileName,
		WatchInterval: DefaultWatchInterval,
		Limits: Limits{
			MaxFrameSize: DefaultMaxFrameSize,
			DialTimeout:  DefaultDialTimeout,
			ReconnectMin: DefaultReconnectMin,
			ReconnectMax: DefaultReconnectMax,
		},
		Services:  map[string]*Service{},
		ListenTLS: map[string]transport.TLSFiles{},
	}
}

// Load reads and parses the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}
