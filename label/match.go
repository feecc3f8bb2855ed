package label

import "strings"

// A Matcher decides whether a label matches a route. Routers match the
// module first and ask the Matcher about the rest; the matchers of this
// package look at the name only and ignore the parameters.
type Matcher interface {
	Match(l Label) bool
}

// MatchFunc adapts a function to a Matcher. It sees the whole label, so
// it can match on parameters too.
type MatchFunc func(l Label) bool

// Match calls f(l).
func (f MatchFunc) Match(l Label) bool { return f(l) }

// ExactMatcher matches the labels whose name is the string itself.
type ExactMatcher string

// Match reports whether l.Name equals m.
func (m ExactMatcher) Match(l Label) bool { return l.Name == string(m) }

// PrefixMatcher matches the labels whose name starts with the string.
type PrefixMatcher string

// Match reports whether l.Name starts with m.
func (m PrefixMatcher) Match(l Label) bool { return strings.HasPrefix(l.Name, string(m)) }

// Exact returns a Matcher of the labels named name, whatever their
// parameters.
func Exact(name string) Matcher { return ExactMatcher(name) }

// Prefix returns a Matcher of the labels whose name starts with prefix,
// whatever their parameters. Prefix("") matches every label.
func Prefix(prefix string) Matcher { return PrefixMatcher(prefix) }
