package transport

import "strings"

// An Address says where to dial or listen. ParseAddress makes one from a
// string, expanding host shorthands and normalizing the port, and String
// turns it back into the canonical URL form: for any s that parses,
// ParseAddress(a.String()) returns a again.
//
// Which fields are set depends on the scheme:
//
//	tcp://host:port             Host
//	unix:///abs.sock, unix:rel  Path (the socket file, taken literally)
//	ws://host[:port][/p][?q]    Host, Path and RawQuery (also wss, and the
//	                            schemes of third-party connectors)
//	stdio:                      nothing
//	exec:command args           Opaque (the command line; see Args)
//
// Subport, from an optional "!label" suffix, is carried for the layers
// above (which use it to pick a service); connectors ignore it.
type Address struct {
	// Scheme is the registered name of the connector, in lower case. An
	// alias given in the input (such as "websocket") is replaced by the
	// name it stands for ("ws").
	Scheme string

	// Host is "host:port", or just "host" where the port may be left out
	// (ws, wss), with an IPv6 host in brackets and the port in decimal
	// without leading zeros. Shorthands such as $4 are already expanded.
	Host string

	// Path is the socket path for unix. For URL-like schemes it is the URL
	// path as written (escaped), empty or starting with "/".
	Path string

	// RawQuery is the URL query as written, without the "?".
	RawQuery string

	// Opaque is everything after "scheme:" for schemes that are not
	// URL-like: the command line of an exec address.
	Opaque string

	// Subport is the label after a final "!", or empty. It is letters,
	// digits, '.', '_', '-' and ':' (so it can be an rpc label such as
	// "files:upload").
	Subport string
}

// String returns the canonical URL form of a, with "!Subport" appended if
// Subport is set.
func (a Address) String() string {
	var b strings.Builder
	b.WriteString(a.Scheme)
	b.WriteByte(':')
	switch {
	case a.Opaque != "":
		b.WriteString(a.Opaque)
	case a.Host == "" && a.Path != "" && !strings.HasPrefix(a.Path, "/"):
		b.WriteString(a.Path) // a relative unix path
	case a.Host != "" || a.Path != "" || a.RawQuery != "":
		b.WriteString("//")
		b.WriteString(a.Host)
		b.WriteString(a.Path)
		if a.RawQuery != "" {
			b.WriteByte('?')
			b.WriteString(a.RawQuery)
		}
	}
	if a.Subport != "" {
		b.WriteByte('!')
		b.WriteString(a.Subport)
	}
	return b.String()
}

// Args splits Opaque into a command and its arguments: words are separated
// by spaces or tabs, and a word may contain text in single or double
// quotes, taken literally (without the quotes). It fails with an error
// matching ErrBadAddress on an unterminated quote or an empty command line.
func (a Address) Args() ([]string, error) {
	args, reason := splitCommand(a.Opaque)
	if reason != "" {
		return nil, &AddressError{Addr: a.String(), Reason: reason}
	}
	return args, nil
}

// splitCommand splits a command line as Address.Args documents, returning
// the reason when it cannot.
func splitCommand(s string) (args []string, reason string) {
	var word strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				word.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				args = append(args, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, "unterminated " + string(quote) + " quote in command"
	}
	if inWord {
		args = append(args, word.String())
	}
	if len(args) == 0 {
		return nil, "empty command"
	}
	return args, ""
}
