package transport

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// A syntax is the shape of the part of an address after the scheme.
type syntax int

const (
	// syntaxURL is scheme://host[:port][/path][?query] or scheme:opaque,
	// for the connectors of other packages, which check the fields
	// themselves.
	syntaxURL      syntax = iota
	syntaxHostPort        // tcp: host and port, nothing else
	syntaxWeb             // ws, wss: host, optional port, path and query
	syntaxPath            // unix: a file path
	syntaxNone            // stdio: nothing
	syntaxCommand         // exec: a command line
)

// shorthands are the host shorthands of the compact form.
var shorthands = map[string]string{
	"$4": "127.0.0.1",
	"$6": "[::1]",
	"$n": "localhost",
	"*4": "0.0.0.0",
	"*6": "[::]",
}

// ParseAddress parses an address in URL form ("tcp://127.0.0.1:4000",
// "unix:///run/x.sock", "ws://host:8080/path", "stdio:", "exec:cmd args")
// or compact form ("tcp/$4:4000", "unix/run/x.sock": the scheme, a slash
// and what follows the "//" of the URL form), with an optional "!subport"
// suffix on either. In the host, $4, $6 and $n stand for 127.0.0.1, [::1]
// and localhost, and *4 and *6 for 0.0.0.0 and [::].
//
// The scheme must be registered (see Register). A "!" followed by a
// subport label at the end of the address is always taken as the subport,
// so a path ending that way must escape the "!" (%21 in a URL path, quotes
// in a command).
//
// The error for an address that does not parse is an *AddressError
// matching ErrBadAddress.
func ParseAddress(s string) (Address, error) {
	a, _, err := parseAddress(s)
	return a, err
}

// parseAddress is ParseAddress that also returns the registry entry of the
// scheme.
func parseAddress(s string) (Address, *entry, error) {
	bad := func(format string, args ...any) (Address, *entry, error) {
		return Address{}, nil, &AddressError{Addr: s, Reason: fmt.Sprintf(format, args...)}
	}
	i := strings.IndexAny(s, ":/")
	if i < 0 {
		return bad("missing scheme (want scheme://... or scheme/...)")
	}
	scheme := strings.ToLower(s[:i])
	if !validScheme(scheme) {
		return bad("bad scheme %q", s[:i])
	}
	e := lookup(scheme)
	if e == nil {
		return Address{}, nil, &AddressError{Addr: s, Reason: fmt.Sprintf("unknown scheme %q", scheme), Err: ErrUnknownScheme}
	}
	a := Address{Scheme: e.name}
	compact := s[i] == '/'
	rest := s[i+1:]

	if j := strings.LastIndexByte(rest, '!'); j >= 0 {
		if label := rest[j+1:]; validSubport(label) {
			a.Subport, rest = label, rest[:j]
		} else if e.syntax == syntaxHostPort || e.syntax == syntaxNone {
			return bad("bad subport %q", label)
		}
	}

	switch e.syntax {
	case syntaxNone:
		if compact {
			return bad("%s has no compact form", scheme)
		}
		if rest != "" {
			return bad("unexpected %q after %s:", rest, scheme)
		}
	case syntaxCommand:
		if compact {
			return bad("%s has no compact form", scheme)
		}
		if _, reason := splitCommand(rest); reason != "" {
			return bad("%s", reason)
		}
		a.Opaque = rest
	case syntaxPath:
		switch {
		case compact:
		case strings.HasPrefix(rest, "//"):
			rest = rest[2:]
			if rest != "" && rest[0] != '/' {
				return bad("unexpected host in %s address (want %s:///abs/path or %s:rel/path)", scheme, scheme, scheme)
			}
		}
		if rest == "" {
			return bad("empty path")
		}
		if strings.IndexByte(rest, 0) >= 0 {
			return bad("NUL in path")
		}
		a.Path = rest
	default:
		switch {
		case compact:
		case strings.HasPrefix(rest, "//"):
			rest = rest[2:]
		case e.syntax == syntaxURL:
			a.Opaque = rest
			return a, e, nil
		default:
			return bad("missing // after %s:", scheme)
		}
		if reason := parseHostPart(&a, rest, e.syntax); reason != "" {
			return bad("%s", reason)
		}
	}
	return a, e, nil
}

// parseHostPart parses host[:port][/path][?query] into a, returning what is
// wrong if it cannot.
func parseHostPart(a *Address, s string, syn syntax) (reason string) {
	if strings.IndexByte(s, '#') >= 0 {
		return "fragment (#) not supported"
	}
	authority, tail := s, ""
	if k := strings.IndexAny(s, "/?"); k >= 0 {
		authority, tail = s[:k], s[k:]
	}
	if strings.IndexByte(authority, '@') >= 0 {
		return "user info (@) not supported"
	}
	for short, long := range shorthands {
		if authority == short || strings.HasPrefix(authority, short+":") {
			authority = long + authority[len(short):]
			break
		}
	}

	host, port, hasPort := authority, "", false
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return fmt.Sprintf("missing ] in host %q", authority)
		}
		host = authority[:end+1]
		switch after := authority[end+1:]; {
		case after == "":
		case after[0] == ':':
			port, hasPort = after[1:], true
		default:
			return fmt.Sprintf("bad host %q", authority)
		}
		ip, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !ip.Is6() {
			return fmt.Sprintf("bad IPv6 host %q", host)
		}
	} else {
		switch strings.Count(authority, ":") {
		case 0:
		case 1:
			k := strings.IndexByte(authority, ':')
			host, port, hasPort = authority[:k], authority[k+1:], true
		default:
			return fmt.Sprintf("bad host %q (an IPv6 host must be in brackets)", authority)
		}
		if !validHostname(host) {
			return fmt.Sprintf("bad host %q", host)
		}
	}

	switch {
	case hasPort && port == "":
		return fmt.Sprintf("missing port after %q", host+":")
	case hasPort:
		p, ok := parsePort(port)
		if !ok {
			return fmt.Sprintf("bad port %q", port)
		}
		port = p
	case syn == syntaxHostPort:
		if host == "" {
			return "missing host and port"
		}
		return fmt.Sprintf("missing port in %q", host)
	}
	if host == "" && syn == syntaxWeb {
		return "missing host"
	}

	path, query := tail, ""
	if k := strings.IndexByte(tail, '?'); k >= 0 {
		path, query = tail[:k], tail[k+1:]
	}
	if syn == syntaxHostPort && tail != "" {
		return fmt.Sprintf("unexpected %q after the port", tail)
	}
	if !validURLChars(path, "") {
		return fmt.Sprintf("bad path %q", path)
	}
	if !validURLChars(query, "/?") {
		return fmt.Sprintf("bad query %q", query)
	}

	a.Host = host
	if hasPort {
		a.Host += ":" + port
	}
	a.Path, a.RawQuery = path, query
	return ""
}

// parsePort returns the decimal port p without leading zeros, if it is one.
func parsePort(p string) (string, bool) {
	if p == "" || len(p) > 5 {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", false
		}
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

// validScheme reports whether s is a URL scheme in lower case.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// ValidSubport reports whether s can be the subport of an address (see
// Address.Subport).
func ValidSubport(s string) bool { return validSubport(s) }

// validSubport reports whether s is a subport label.
func validSubport(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' && c != ':' {
			return false
		}
	}
	return true
}

// validHostname reports whether s is empty or made of the characters of
// host names and IPv4 addresses.
func validHostname(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validURLChars reports whether s holds only characters allowed unescaped
// in a URL path (RFC 3986 pchar and "/"), the ones in extra, and
// well-formed %XX escapes.
func validURLChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c), strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0, strings.IndexByte(extra, c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
