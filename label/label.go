package label

import (
	"strings"
)

// A Label names what a client calls or opens: a Name within a Module,
// optionally on a Host, with optional Params. The zero Label is not
// valid; Parse makes valid ones.
type Label struct {
	// Host, if set, names the server or provider that offers the module,
	// as a hostname (in lower case), an IPv6 address in brackets, either
	// optionally with ":port". Servers reach only the hosts they are
	// configured for.
	Host string

	// Module is the namespace of the name: the service a server mounts,
	// such as "chat". It is letters, digits, '-', '_' and '.', starting
	// with a letter or digit.
	Module string

	// Name is what is called within the module, such as "send": letters,
	// digits, '-', '_' and '.'.
	Name string

	// Params are the key/value pairs after "?", in order. Routing ignores
	// them; the handler reads them.
	Params Params
}

// A Param is one key/value pair of a label's parameters. The key is not
// empty; the value may be.
type Param struct {
	Key, Value string
}

// Params are a label's parameters in the order written. A key may repeat.
type Params []Param

// Get returns the value of the first parameter with key, and whether
// there is one.
func (p Params) Get(key string) (string, bool) {
	for _, kv := range p {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Values returns the values of every parameter with key, in order.
func (p Params) Values(key string) []string {
	var vs []string
	for _, kv := range p {
		if kv.Key == key {
			vs = append(vs, kv.Value)
		}
	}
	return vs
}

// String returns the parameters in the canonical form of a label's query,
// without the "?": key=value pairs joined by "&", percent-encoded where
// needed (see spec/labels.md). A parameter with an empty value is printed
// as its key alone.
func (p Params) String() string {
	var b strings.Builder
	p.appendTo(&b)
	return b.String()
}

func (p Params) appendTo(b *strings.Builder) {
	for i, kv := range p {
		if i > 0 {
			b.WriteByte('&')
		}
		escape(b, kv.Key)
		if kv.Value != "" {
			b.WriteByte('=')
			escape(b, kv.Value)
		}
	}
}

// Equal reports whether p and q have the same pairs in the same order. A
// nil and an empty Params are equal.
func (p Params) Equal(q Params) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// String returns the label in canonical form:
// [host/]module:name[?params]. It is also the rpc selector of the label.
func (l Label) String() string {
	var b strings.Builder
	b.Grow(len(l.Host) + len(l.Module) + len(l.Name) + 2)
	if l.Host != "" {
		b.WriteString(l.Host)
		b.WriteByte('/')
	}
	b.WriteString(l.Module)
	b.WriteByte(':')
	b.WriteString(l.Name)
	if len(l.Params) > 0 {
		b.WriteByte('?')
		l.Params.appendTo(&b)
	}
	return b.String()
}

// Equal reports whether l and m are the same label, parameters included.
func (l Label) Equal(m Label) bool {
	return l.Host == m.Host && l.Module == m.Module && l.Name == m.Name && l.Params.Equal(m.Params)
}

// Route returns the label without its host and parameters: "module:name",
// what routing looks at.
func (l Label) Route() string { return l.Module + ":" + l.Name }

// WithModule returns a copy of l in module, without a host: how a proxy
// renames a label for the upstream that serves the module under another
// name. The parameters are shared, not copied.
func (l Label) WithModule(module string) Label {
	l.Host, l.Module = "", module
	return l
}

// MustParse is Parse for labels known to be valid, such as constants: it
// panics if s does not parse.
func MustParse(s string) Label {
	l, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return l
}
