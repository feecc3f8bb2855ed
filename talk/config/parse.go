package config

import (
	"errors"
	"fmt"
	"net"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/transport"
)

// Parse parses a config from the content of a qtalk.toml file; file names
// it in errors. Settings left out get their defaults. Any problem is an
// *Error that matches ErrInvalid: a syntax error, a value of the wrong
// type or out of range, an unknown key, a bad name, address or reference.
func Parse(data []byte, file string) (*Config, error) {
	if file == "" {
		file = defaultFileName
	}
	cfg := Default()
	cfg.File = file
	p := &parser{file: file}
	var root map[string]toml.Primitive
	md, err := toml.Decode(string(data), &root)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: file, Line: pe.Position.Line, Key: pe.LastKey, Err: syntaxError{pe}}
		}
		return nil, &Error{File: file, Err: err}
	}
	p.md = md
	for _, e := range p.sorted(nil, root) {
		switch e.name {
		case "listen":
			err = p.listen(e, cfg)
		case "allow_origins":
			cfg.AllowOrigins, err = p.origins(e)
		case "watch_interval":
			cfg.WatchInterval, err = p.duration(e, 0)
		case "tokens":
			cfg.Tokens, err = p.path(e)
		case "limits":
			err = p.limits(e, &cfg.Limits)
		case "services":
			err = p.services(e, cfg)
		case "routes":
			cfg.Routes, err = p.routes(e)
		case "grid":
			cfg.Grid, err = p.grid(e)
		case "cache_dir":
			cfg.CacheDir, err = p.path(e)
		default:
			err = p.unknown(e, "listen", "allow_origins", "tokens", "watch_interval", "limits", "services", "routes", "grid", "cache_dir")
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.references(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// A syntaxError is a toml.ParseError as an *Error holds it: its text is
// the parser's message alone, as the *Error gives the file, line and key,
// and it unwraps to the toml.ParseError, for its position and usage.
type syntaxError struct{ pe toml.ParseError }

func (e syntaxError) Error() string { return e.pe.Message }
func (e syntaxError) Unwrap() error { return e.pe }

// parser decodes the values of a parsed file.
type parser struct {
	file string
	md   toml.MetaData
}

// An entry is a key of a table and its undecoded value.
type entry struct {
	name string
	key  toml.Key // the full key
	v    toml.Primitive
	line int
}

func (e entry) String() string { return e.key.String() }

// fail returns an *Error about e.
func (p *parser) fail(e entry, format string, args ...any) error {
	return &Error{File: p.file, Line: e.line, Key: e.key.String(), Err: fmt.Errorf(format, args...)}
}

// lineProbe finds the line of a value: decoding into it fails with a
// toml.ParseError that has the position of the value's key.
type lineProbe struct{}

var errProbe = errors.New("probe")

func (lineProbe) UnmarshalTOML(any) error { return errProbe }

func (p *parser) line(v toml.Primitive) int {
	var pe toml.ParseError
	if err := p.md.PrimitiveDecode(v, lineProbe{}); errors.As(err, &pe) {
		return pe.Position.Line
	}
	return 0
}

// sorted returns the entries of a table, in the order of the file.
func (p *parser) sorted(parent toml.Key, table map[string]toml.Primitive) []entry {
	es := make([]entry, 0, len(table))
	for name, v := range table {
		key := append(slices.Clip(parent), name)
		es = append(es, entry{name: name, key: key, v: v, line: p.line(v)})
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].line != es[j].line {
			return es[i].line < es[j].line
		}
		return es[i].name < es[j].name
	})
	return es
}

// table returns the entries of e, which must be a table.
func (p *parser) table(e entry) ([]entry, error) {
	// Type is empty for the tables made implicitly by [a.b] headers. (The
	// decoder takes any value for a map without complaint.)
	var m map[string]toml.Primitive
	if t := p.md.Type(e.key...); t != "" && t != "Hash" || p.md.PrimitiveDecode(e.v, &m) != nil {
		return nil, p.fail(e, "want a table, not %s", p.typeOf(e))
	}
	return p.sorted(e.key, m), nil
}

// typeOf names the TOML type of e for errors.
func (p *parser) typeOf(e entry) string {
	switch t := p.md.Type(e.key...); t {
	case "Hash":
		return "a table"
	case "":
		return "nothing"
	default:
		return "a value of type " + strings.ToLower(t)
	}
}

func (p *parser) unknown(e entry, known ...string) error {
	return p.fail(e, "unknown key (want one of %s)", strings.Join(known, ", "))
}

func (p *parser) str(e entry) (string, error) {
	var s string
	if p.md.PrimitiveDecode(e.v, &s) != nil {
		return "", p.fail(e, "want a string, not %s", p.typeOf(e))
	}
	return s, nil
}

// strings decodes a string or an array of strings.
func (p *parser) strings(e entry) ([]string, error) {
	var s string
	if p.md.PrimitiveDecode(e.v, &s) == nil {
		return []string{s}, nil
	}
	var ss []string
	if p.md.PrimitiveDecode(e.v, &ss) != nil {
		return nil, p.fail(e, "want a string or an array of strings, not %s", p.typeOf(e))
	}
	return ss, nil
}

// integer decodes an integer in [lo, hi].
func (p *parser) integer(e entry, lo, hi int) (int, error) {
	var n int64
	if p.md.PrimitiveDecode(e.v, &n) != nil {
		return 0, p.fail(e, "want an integer, not %s", p.typeOf(e))
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, p.fail(e, "%d is out of range [%d, %d]", n, lo, hi)
	}
	return int(n), nil
}

// duration decodes a duration string of at least lo and at most a day.
func (p *parser) duration(e entry, lo time.Duration) (time.Duration, error) {
	s, err := p.str(e)
	if err != nil {
		return 0, p.fail(e, "want a duration such as \"1.5s\", not %s", p.typeOf(e))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, p.fail(e, "bad duration %q (want a number and a unit, such as \"500ms\" or \"1m30s\")", s)
	}
	if d < lo || d > maxDuration {
		return 0, p.fail(e, "duration %s is out of range [%s, %s]", d, lo, maxDuration)
	}
	return d, nil
}

func (p *parser) listen(e entry, cfg *Config) error {
	addrs, err := p.listenAddrs(e, cfg)
	if err != nil {
		return err
	}
	if len(addrs) > maxListen {
		return p.fail(e, "more than %d addresses", maxListen)
	}
	for _, s := range addrs {
		a, err := transport.ParseAddress(s)
		if err != nil {
			return p.fail(e, "%w", err)
		}
		if a.Scheme == "exec" {
			return p.fail(e, "cannot listen on %q: exec addresses can only be dialed", s)
		}
		cfg.Listen = append(cfg.Listen, s)
	}
	return nil
}

// listenAddrs decodes listen: an address, or an array of addresses and of
// tables with an addr and the certificate files of its listener, which go
// in cfg.ListenTLS.
func (p *parser) listenAddrs(e entry, cfg *Config) ([]string, error) {
	if addrs, err := p.strings(e); err == nil {
		return addrs, nil
	}
	var items []toml.Primitive
	if p.md.PrimitiveDecode(e.v, &items) != nil {
		return nil, p.fail(e, "want a string or an array of strings and tables (addr, cert, key, ca), not %s", p.typeOf(e))
	}
	var addrs []string
	for i, item := range items {
		var s string
		if p.md.PrimitiveDecode(item, &s) == nil {
			addrs = append(addrs, s)
			continue
		}
		var v any
		var m map[string]toml.Primitive
		if p.md.PrimitiveDecode(item, &v); !isTable(v) || p.md.PrimitiveDecode(item, &m) != nil {
			return nil, p.fail(e, "item %d: want an address or a table (addr, cert, key, ca)", i+1)
		}
		var addr string
		var files transport.TLSFiles
		for _, f := range p.sorted(e.key, m) {
			f.line = e.line // the probe cannot place the keys of an array's tables
			var err error
			switch f.name {
			case "addr":
				addr, err = p.str(f)
			case "cert", "key", "ca":
				err = p.tlsFile(f, &files)
			default:
				err = p.unknown(f, "addr", "cert", "key", "ca")
			}
			if err != nil {
				return nil, err
			}
		}
		if addr == "" {
			return nil, p.fail(e, "item %d: missing addr", i+1)
		}
		if err := p.checkTLSFiles(e, files); err != nil {
			return nil, err
		}
		if !files.IsZero() {
			cfg.ListenTLS[addr] = files
		}
		addrs = append(addrs, addr)
	}
	return addrs, nil
}

func isTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// path decodes a file name, made relative to the directory of the config
// file.
func (p *parser) path(e entry) (string, error) {
	s, err := p.str(e)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", p.fail(e, "empty file name")
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(filepath.Dir(p.file), s)
	}
	return s, nil
}

// allow decodes the identities and token names allowed to call a
// service.
func (p *parser) allow(e entry) ([]string, error) {
	who, err := p.strings(e)
	if err != nil {
		return nil, err
	}
	if len(who) > maxIdempotentNames {
		return nil, p.fail(e, "more than %d entries", maxIdempotentNames)
	}
	for _, w := range who {
		if name, ok := strings.CutPrefix(w, "token:"); w == "" || ok && name == "" {
			return nil, p.fail(e, "bad entry %q (want an identity such as \"spiffe://example.org/app\", or \"token:NAME\")", w)
		}
	}
	return append([]string{}, who...), nil
}

// tlsFile decodes the cert, key or ca entry e into files, the path made
// relative to the directory of the config file.
func (p *parser) tlsFile(e entry, files *transport.TLSFiles) error {
	s, err := p.path(e)
	if err != nil {
		return err
	}
	switch e.name {
	case "cert":
		files.Cert = s
	case "key":
		files.Key = s
	case "ca":
		files.CA = s
	}
	return nil
}

// checkTLSFiles checks that files name a certificate and its key
// together. (Whether the files can be read is for the server to find.)
func (p *parser) checkTLSFiles(e entry, files transport.TLSFiles) error {
	if (files.Cert == "") != (files.Key == "") {
		return p.fail(e, "cert and key go together")
	}
	return nil
}

// origins decodes origin patterns, which must be valid path.Match
// patterns.
func (p *parser) origins(e entry) ([]string, error) {
	patterns, err := p.strings(e)
	if err != nil {
		return nil, err
	}
	if len(patterns) > maxAllowOrigins {
		return nil, p.fail(e, "more than %d patterns", maxAllowOrigins)
	}
	for _, pat := range patterns {
		if _, err := path.Match(pat, ""); pat == "" || err != nil {
			return nil, p.fail(e, "bad origin pattern %q (want a host such as \"localhost:5173\" or \"*.example.com\", or an origin such as \"https://app.example.com\")", pat)
		}
	}
	return patterns, nil
}

func (p *parser) limits(e entry, l *Limits) error {
	es, err := p.table(e)
	if err != nil {
		return err
	}
	var maxEntry entry
	for _, e := range es {
		switch e.name {
		case "max_frame_size":
			l.MaxFrameSize, err = p.integer(e, minFrameSize, maxFrameSize)
		case "max_sessions":
			l.MaxSessions, err = p.integer(e, 0, maxCount)
		case "max_calls":
			l.MaxCalls, err = p.integer(e, 0, maxCount)
		case "dial_timeout":
			l.DialTimeout, err = p.duration(e, time.Millisecond)
		case "reconnect_min":
			l.ReconnectMin, err = p.duration(e, time.Millisecond)
		case "reconnect_max":
			l.ReconnectMax, err = p.duration(e, time.Millisecond)
			maxEntry = e
		default:
			err = p.unknown(e, "max_frame_size", "max_sessions", "max_calls", "dial_timeout", "reconnect_min", "reconnect_max")
		}
		if err != nil {
			return err
		}
	}
	if l.ReconnectMax < l.ReconnectMin {
		if maxEntry.key == nil {
			maxEntry = entry{key: toml.Key{"limits", "reconnect_max"}, line: p.line(e.v)}
		}
		return p.fail(maxEntry, "%s is less than reconnect_min, %s", l.ReconnectMax, l.ReconnectMin)
	}
	return nil
}

func (p *parser) services(e entry, cfg *Config) error {
	es, err := p.table(e)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := checkModule(e.name); err != nil {
			return p.fail(e, "bad service name: %w", err)
		}
		s, err := p.service(e)
		if err != nil {
			return err
		}
		cfg.Services[s.Name] = s
	}
	return nil
}

// checkModule checks that name can be the module of labels, and is not
// the module of the built-in labels.
func checkModule(name string) error {
	if _, err := label.Parse(name + ":x"); err != nil {
		return err
	}
	if name == reservedModule {
		return fmt.Errorf("%q is reserved for the built-in labels", name)
	}
	return nil
}

// upstreamOnly are the keys of upstream services only.
var upstreamOnly = []string{"service", "host", "timeout", "retries", "idempotent", "breaker", "cert", "key", "ca", "balance", "hash_param", "resolve_every", "health_every", "scheme"}

// processOnly are the keys of process services only.
var processOnly = []string{"start", "stop_timeout", "ping_interval", "ping_timeout"}

func (p *parser) service(e entry) (*Service, error) {
	es, err := p.table(e)
	if err != nil {
		return nil, err
	}
	s := &Service{Name: e.name, Line: e.line, lines: map[string]int{}}
	set := map[string]entry{}
	for _, e := range es {
		set[e.name] = e
		s.lines[e.name] = e.line
		switch e.name {
		case "provider":
			var addrs []string
			if addrs, err = p.strings(e); err == nil {
				switch {
				case len(addrs) == 0:
					err = p.fail(e, "empty list of addresses")
				case len(addrs) > maxEndpoints:
					err = p.fail(e, "more than %d addresses", maxEndpoints)
				case len(addrs) == 1:
					s.Provider = addrs[0]
				default:
					s.Endpoints = addrs
					s.Provider = strings.Join(addrs, ", ")
				}
			}
		case "balance":
			if s.Balance, err = p.str(e); err == nil && s.Balance != BalanceRoundRobin && s.Balance != BalanceLeastOutstanding && s.Balance != BalanceHash {
				err = p.fail(e, "unknown policy %q (want %q, %q or %q)", s.Balance, BalanceRoundRobin, BalanceLeastOutstanding, BalanceHash)
			}
		case "hash_param":
			if s.HashParam, err = p.str(e); err == nil && (s.HashParam == "" || strings.ContainsAny(s.HashParam, "?&=")) {
				err = p.fail(e, "bad parameter name %q", s.HashParam)
			}
		case "resolve_every":
			s.ResolveEvery, err = p.duration(e, time.Millisecond)
		case "scheme":
			if s.Scheme, err = p.str(e); err == nil && !slices.Contains(DNSSchemes, s.Scheme) {
				err = p.fail(e, "unknown scheme %q (want one of %s)", s.Scheme, strings.Join(DNSSchemes, ", "))
			}
		case "health_every":
			if s.HealthEvery, err = p.duration(e, 0); err == nil && s.HealthEvery > 0 && s.HealthEvery < time.Millisecond {
				err = p.fail(e, "%s is less than 1ms (0 turns the checks off)", s.HealthEvery)
			}
		case "src":
			if s.Src, err = p.str(e); err == nil {
				if s.Src, err = ParseSrc(s.Src); err != nil {
					err = p.fail(e, "%w", err)
				}
			}
		case "start":
			if s.Process.Start, err = p.str(e); err == nil && s.Process.Start != StartOnDemand && s.Process.Start != StartStartup {
				err = p.fail(e, "bad start %q (want %q or %q)", s.Process.Start, StartOnDemand, StartStartup)
			}
		case "stop_timeout":
			s.Process.StopTimeout, err = p.duration(e, time.Millisecond)
		case "ping_interval":
			s.Process.PingInterval, err = p.duration(e, 0)
		case "ping_timeout":
			s.Process.PingTimeout, err = p.duration(e, time.Millisecond)
		case "module":
			s.Module, err = p.str(e)
		case "options":
			if _, err = p.table(e); err == nil {
				err = p.md.PrimitiveDecode(e.v, &s.Options)
			}
		case "service":
			if s.Service, err = p.str(e); err == nil {
				if cerr := checkModule(s.Service); cerr != nil {
					err = p.fail(e, "bad upstream service name: %w", cerr)
				}
			}
		case "host":
			if s.Host, err = p.str(e); err == nil {
				var l label.Label
				if l, err = label.Parse(s.Host + "/m:n"); err != nil || strings.Contains(s.Host, "/") {
					err = p.fail(e, "bad host name %q", s.Host)
				} else {
					s.Host = l.Host
				}
			}
		case "timeout":
			s.Timeout, err = p.duration(e, time.Millisecond)
		case "retries":
			s.Retries, err = p.integer(e, 0, MaxRetries)
		case "idempotent":
			s.Idempotent, err = p.idempotent(e)
		case "fallback":
			s.Fallback, err = p.str(e)
		case "breaker":
			s.Breaker, err = p.breaker(e)
		case "cert", "key", "ca":
			err = p.tlsFile(e, &s.TLS)
		case "allow":
			s.Allow, err = p.allow(e)
		case "file":
			var file string
			if file, err = p.str(e); err == nil {
				if file == "" {
					err = p.fail(e, "empty file name")
				} else if !filepath.IsAbs(file) {
					file = filepath.Join(filepath.Dir(p.file), file)
				}
				s.Options = map[string]any{"file": file}
			}
		default:
			err = p.unknown(e, "provider", "src", "module", "options", "service", "host", "timeout", "retries", "idempotent", "fallback", "breaker", "cert", "key", "ca", "allow", "file", "start", "stop_timeout", "ping_interval", "ping_timeout", "balance", "hash_param", "resolve_every", "health_every", "scheme")
		}
		if err != nil {
			return nil, err
		}
	}
	if s.Src != "" {
		if _, ok := set["provider"]; ok {
			return nil, p.fail(set["src"], "a service has either src or provider, not both")
		}
		s.Provider = SrcScheme + s.Src
	}
	if !s.IsProcess() {
		for _, k := range processOnly {
			if e, ok := set[k]; ok {
				return nil, p.fail(e, "only process services (an exec: provider or src) take %s", k)
			}
		}
	} else {
		_, interval := set["ping_interval"]
		s.Process = processDefaults(s.Process, interval)
	}
	switch {
	case s.Provider == "":
		return nil, p.fail(e, "missing provider (\"local\" or an upstream address) or src")
	case s.Provider == ProviderTable:
		for _, k := range append([]string{"module", "options"}, upstreamOnly...) {
			if e, ok := set[k]; ok {
				return nil, p.fail(e, "a table service does not take %s", k)
			}
		}
		if _, ok := set["file"]; !ok {
			return nil, p.fail(e, "missing file (the TOML or JSON file of the table)")
		}
		s.Module = TableModule
		return s, nil
	case set["file"].key != nil:
		return nil, p.fail(set["file"], "only table services take file (provider is %q)", s.Provider)
	case s.Local():
		if s.Module == "" {
			return nil, p.fail(e, "missing module (the import path of a compiled-in module) for provider \"local\"")
		}
		if strings.ContainsAny(s.Module, " \t\n") {
			return nil, p.fail(set["module"], "bad module path %q", s.Module)
		}
		for _, k := range upstreamOnly {
			if e, ok := set[k]; ok {
				return nil, p.fail(e, "only upstream services take %s, not provider \"local\"", k)
			}
		}
		return s, nil
	}
	for _, k := range []string{"module", "options"} {
		if e, ok := set[k]; ok {
			return nil, p.fail(e, "only local services take %s (provider is %q)", k, s.Provider)
		}
	}
	if s.Src != "" {
		for _, k := range []string{"host", "cert", "key", "ca"} {
			if e, ok := set[k]; ok {
				return nil, p.fail(e, "a service built from source does not take %s", k)
			}
		}
		if s.Service == "" {
			s.Service = s.Name
		}
		if _, ok := set["breaker"]; !ok {
			s.Breaker = Breaker{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown}
		}
		return s, nil
	}
	if err := p.checkTLSFiles(e, s.TLS); err != nil {
		return nil, err
	}
	if err := p.endpoints(s, set); err != nil {
		return nil, err
	}
	if err := p.balance(s, set); err != nil {
		return nil, err
	}
	if s.Service == "" {
		s.Service = s.Name
	}
	if _, ok := set["breaker"]; !ok {
		s.Breaker = Breaker{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown}
	}
	return s, nil
}

// endpoints checks and normalizes the provider of an upstream service:
// one address, a list, or a DNS name.
func (p *parser) endpoints(s *Service, set map[string]entry) error {
	if IsDNSProvider(s.Provider) {
		if len(s.Endpoints) > 0 {
			return p.fail(set["provider"], "a list of addresses cannot name DNS %q", s.Provider)
		}
		if err := checkDNSProvider(s.Provider); err != nil {
			return p.fail(set["provider"], "bad provider: %w", err)
		}
		if s.Scheme == "" {
			s.Scheme = DNSSchemes[0]
		}
		return nil
	}
	for _, key := range []string{"resolve_every", "scheme"} {
		if _, ok := set[key]; ok {
			return p.fail(set[key], "only DNS providers (dns://, dns+srv://) take %s", key)
		}
	}
	addrs := s.Endpoints
	if addrs == nil {
		addrs = []string{s.Provider}
	}
	for i, addr := range addrs {
		a, err := transport.ParseAddress(addr)
		if err != nil {
			return p.fail(set["provider"], "bad provider: %w", err)
		}
		if a.Scheme == "stdio" {
			return p.fail(set["provider"], "bad provider %q: a server cannot dial stdio", addr)
		}
		if a.Scheme == "exec" && s.Endpoints != nil {
			return p.fail(set["provider"], "bad provider %q: a list of addresses cannot name a process", addr)
		}
		if a.Subport != "" {
			if s.Service != "" && s.Service != a.Subport {
				return p.fail(set["service"], "%q differs from the service %q the provider address names", s.Service, a.Subport)
			}
			if err := checkModule(a.Subport); err != nil {
				return p.fail(set["provider"], "bad upstream service name: %w", err)
			}
			s.Service, a.Subport = a.Subport, ""
		}
		addrs[i] = a.String()
	}
	if s.Endpoints == nil {
		s.Provider = addrs[0]
	} else {
		s.Provider = strings.Join(addrs, ", ")
	}
	return nil
}

// checkDNSProvider checks "dns://name:port" and
// "dns+srv://_service._proto.name".
func checkDNSProvider(provider string) error {
	scheme, rest, _ := strings.Cut(provider, "://")
	name := rest
	if scheme == SchemeDNS {
		var port string
		var err error
		if name, port, err = net.SplitHostPort(rest); err != nil {
			return fmt.Errorf("%q: want dns://name:port", provider)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("%q: bad port %q", provider, port)
		}
	} else if !strings.HasPrefix(name, "_") || strings.Count(name, ".") < 2 {
		return fmt.Errorf("%q: want dns+srv://_service._proto.name", provider)
	}
	if name == "" || len(name) > 253 || strings.ContainsAny(name, "/?#@ \t") {
		return fmt.Errorf("%q: bad name %q", provider, name)
	}
	return nil
}

// balance checks the balancing settings and fills in their defaults.
func (p *parser) balance(s *Service, set map[string]entry) error {
	switch _, hasParam := set["hash_param"]; {
	case s.Balance == BalanceHash && !hasParam:
		return p.fail(set["balance"], "balance %q needs hash_param, the label parameter to hash", BalanceHash)
	case s.Balance != BalanceHash && hasParam:
		return p.fail(set["hash_param"], "hash_param is for balance = %q", BalanceHash)
	}
	if IsDNSProvider(s.Provider) && s.ResolveEvery == 0 {
		s.ResolveEvery = DefaultResolveEvery
	}
	if _, ok := set["health_every"]; !ok && s.Many() {
		s.HealthEvery = DefaultHealthEvery
	}
	return nil
}

func (p *parser) idempotent(e entry) ([]string, error) {
	names, err := p.strings(e)
	if err != nil {
		return nil, err
	}
	if len(names) > maxIdempotentNames {
		return nil, p.fail(e, "more than %d names", maxIdempotentNames)
	}
	for _, n := range names {
		prefix, star := strings.CutSuffix(n, "*")
		if star && prefix == "" {
			continue
		}
		if _, err := label.Parse("m:" + prefix); err != nil {
			return nil, p.fail(e, "bad name %q (want a name, or a prefix and \"*\")", n)
		}
	}
	return names, nil
}

func (p *parser) breaker(e entry) (Breaker, error) {
	b := Breaker{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown}
	es, err := p.table(e)
	if err != nil {
		return b, err
	}
	for _, e := range es {
		switch e.name {
		case "failures":
			b.Failures, err = p.integer(e, 0, maxCount)
		case "cooldown":
			b.Cooldown, err = p.duration(e, time.Millisecond)
		default:
			err = p.unknown(e, "failures", "cooldown")
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// references checks what services say about each other.
func (p *parser) references(cfg *Config) error {
	names := make([]string, 0, len(cfg.Services))
	for name := range cfg.Services {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return cfg.Services[names[i]].Line < cfg.Services[names[j]].Line })
	byProvider := map[string]*Service{}
	for _, name := range names {
		s := cfg.Services[name]
		if o := byProvider[s.Provider]; o != nil && !s.Local() && o.TLS != s.TLS {
			e := entry{key: toml.Key{"services", name}, line: s.Line}
			return p.fail(e, "cert, key and ca differ from those of service %q, which has the same provider", o.Name)
		}
		byProvider[s.Provider] = s
		if s.Fallback == "" {
			continue
		}
		e := entry{key: toml.Key{"services", name, "fallback"}, line: s.KeyLine("fallback")}
		switch _, ok := cfg.Services[s.Fallback]; {
		case s.Fallback == name:
			return p.fail(e, "a service cannot be its own fallback")
		case !ok:
			return p.fail(e, "no service %q", s.Fallback)
		}
	}
	return nil
}

// ServiceError returns an *Error about key of service s ("" for the
// service itself) in cfg, for the problems found after parsing, such as
// a module that is not compiled in.
func (cfg *Config) ServiceError(s *Service, key string, err error) error {
	k := toml.Key{"services", s.Name}
	if key != "" {
		k = append(k, key)
	}
	return &Error{File: cfg.File, Line: s.KeyLine(key), Key: k.String(), Err: err}
}
