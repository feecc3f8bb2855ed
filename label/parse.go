package label

import (
	"strconv"
	"strings"
)

// MaxLength bounds the length of a label in bytes.
const MaxLength = 16 << 10

// Parse parses s, a label of the form [host/]module:name[?params] (see
// spec/labels.md). Hosts are returned in lower case and parameters
// percent-decoded. A string that is not a label gives a *SyntaxError,
// which matches ErrInvalid.
func Parse(s string) (Label, error) {
	var l Label
	p := parser{s: s}
	if s == "" {
		return l, p.fail(PartLabel, 0, "empty label")
	}
	if len(s) > MaxLength {
		return l, p.fail(PartLabel, MaxLength, "longer than "+strconv.Itoa(MaxLength)+" bytes")
	}
	head, query, hasQuery := strings.Cut(s, "?")
	off := 0
	if host, rest, ok := strings.Cut(head, "/"); ok {
		if i := strings.LastIndexByte(host, ':'); i >= 0 && host[i+1:] != "" && !allDigits(host[i+1:]) && !strings.HasSuffix(host, "]") {
			return Label{}, p.fail(PartName, len(host), "'/' is not allowed (a host comes first: host/module:name)")
		}
		h, err := p.host(host)
		if err != nil {
			return Label{}, err
		}
		l.Host = h
		head, off = rest, len(host)+1
	}
	module, name, ok := strings.Cut(head, ":")
	if !ok {
		if i := strings.IndexByte(head, '/'); i >= 0 {
			return Label{}, p.fail(PartModule, off+i, "'/' in module (only one host is allowed)")
		}
		return Label{}, p.fail(PartLabel, off+len(head), "missing ':' between module and name")
	}
	if err := p.word(PartModule, module, off, true); err != nil {
		return Label{}, err
	}
	if err := p.word(PartName, name, off+len(module)+1, false); err != nil {
		return Label{}, err
	}
	l.Module, l.Name = module, name
	if hasQuery {
		params, err := p.params(query, len(head)+off+1)
		if err != nil {
			return Label{}, err
		}
		l.Params = params
	}
	return l, nil
}

// parser reports errors about the string it parses.
type parser struct{ s string }

func (p parser) fail(part string, offset int, reason string) *SyntaxError {
	return &SyntaxError{Label: p.s, Part: part, Offset: offset, Reason: reason}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isWordChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }

// word checks a module or a name that starts at off in the label.
func (p parser) word(part, w string, off int, alnumFirst bool) error {
	if w == "" {
		return p.fail(part, off, "empty "+part)
	}
	if alnumFirst && !isAlnum(w[0]) {
		return p.fail(part, off, "must start with a letter or digit, not "+quoteByte(w[0]))
	}
	for i := 0; i < len(w); i++ {
		if !isWordChar(w[i]) {
			return p.fail(part, off+i, quoteByte(w[i])+" is not allowed (letters, digits, '-', '_' and '.' are)")
		}
	}
	return nil
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return "byte " + strconv.QuoteToASCII(string(rune(c)))
	}
	return strconv.QuoteRune(rune(c))
}

// host checks the host part (at the start of the label) and returns it in
// lower case.
func (p parser) host(h string) (string, error) {
	if h == "" {
		return "", p.fail(PartHost, 0, "empty host before '/'")
	}
	name, port := h, ""
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", p.fail(PartHost, 0, "missing ']' after an IPv6 address")
		}
		name, port = h[:end+1], h[end+1:]
		if end == 1 {
			return "", p.fail(PartHost, 1, "empty IPv6 address")
		}
		for i := 1; i < end; i++ {
			c := h[i]
			if !(isHexDigit(c) || c == ':' || c == '.') {
				return "", p.fail(PartHost, i, quoteByte(c)+" in an IPv6 address")
			}
		}
		if port != "" && port[0] != ':' {
			return "", p.fail(PartHost, end+1, "want ':port' after ']'")
		}
	} else {
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			name, port = h[:i], h[i:]
		}
		if name == "" {
			return "", p.fail(PartHost, 0, "empty host name")
		}
		if !isAlnum(name[0]) {
			return "", p.fail(PartHost, 0, "must start with a letter or digit, not "+quoteByte(name[0]))
		}
		for i := 0; i < len(name); i++ {
			if !isWordChar(name[i]) {
				return "", p.fail(PartHost, i, quoteByte(name[i])+" is not allowed in a host name")
			}
		}
	}
	if port != "" {
		digits := port[1:]
		off := len(name) + 1
		if digits == "" || len(digits) > 5 {
			return "", p.fail(PartHost, off, "want a port of 1 to 5 digits after ':'")
		}
		for i := 0; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return "", p.fail(PartHost, off+i, quoteByte(digits[i])+" in the port")
			}
		}
		if n, _ := strconv.Atoi(digits); n > 65535 {
			return "", p.fail(PartHost, off, "port "+digits+" out of range")
		}
	}
	return strings.ToLower(h), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// params parses the query, which starts at off in the label.
func (p parser) params(q string, off int) (Params, error) {
	if q == "" {
		return nil, p.fail(PartParams, off, "empty parameters after '?'")
	}
	var ps Params
	for {
		pair, rest, more := strings.Cut(q, "&")
		if pair == "" {
			return nil, p.fail(PartParams, off, "empty parameter")
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		if rawKey == "" {
			return nil, p.fail(PartParams, off, "empty parameter key")
		}
		key, err := p.unescape(rawKey, off)
		if err != nil {
			return nil, err
		}
		value, err := p.unescape(rawValue, off+len(rawKey)+1)
		if err != nil {
			return nil, err
		}
		ps = append(ps, Param{Key: key, Value: value})
		if !more {
			break
		}
		off += len(pair) + 1
		q = rest
	}
	return ps, nil
}

// rawParamChar reports the bytes a parameter may contain unescaped when
// parsing: RFC 3986 pchar and '?', with '=' (taken literally in values).
func rawParamChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '\'', '(', ')', '*', '+', ',', ';', ':', '@', '/', '?', '=':
		return true
	}
	return false
}

// unescape percent-decodes s, which starts at off in the label.
func (p parser) unescape(s string, off int) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		for i := 0; i < len(s); i++ {
			if !rawParamChar(s[i]) {
				return "", p.fail(PartParams, off+i, quoteByte(s[i])+" must be percent-encoded")
			}
		}
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
				return "", p.fail(PartParams, off+i, "'%' not followed by two hex digits")
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case rawParamChar(c):
			b.WriteByte(c)
		default:
			return "", p.fail(PartParams, off+i, quoteByte(c)+" must be percent-encoded")
		}
	}
	return b.String(), nil
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// keepInParam reports the bytes String leaves unescaped in parameters:
// the raw bytes of parsing but '=', which is always escaped.
func keepInParam(c byte) bool { return c != '=' && rawParamChar(c) }

const upperHex = "0123456789ABCDEF"

// escape writes s percent-encoded.
func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keepInParam(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}
