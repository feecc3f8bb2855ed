package rpc

import (
	"fmt"
	"github.com/qtalkkit/qtalk/internal/quote"
	"sort"
	"strings"
	"sync"
)

// A RespondMux routes calls to handlers by selector, like http.ServeMux.
// A pattern ending in "/", "." or ":" is a prefix pattern: it matches
// every selector that starts with it, and its handler sees the rest of
// the selector in Call.Selector (so muxes nest). Other patterns match
// exactly. The longest matching pattern wins; exact beats prefix. A call
// nothing matches gets a CodeNotFound error.
type RespondMux struct {
	mu       sync.RWMutex
	exact    map[string]Handler
	prefixes []prefixEntry // longest first
}

type prefixEntry struct {
	prefix string
	h      Handler
}

// NewRespondMux returns an empty RespondMux.
func NewRespondMux() *RespondMux { return &RespondMux{exact: map[string]Handler{}} }

func isPrefixPattern(p string) bool {
	return strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".") || strings.HasSuffix(p, ":")
}

// Handle registers h for pattern. It panics if pattern is empty or taken,
// as registering twice is a programming error.
func (m *RespondMux) Handle(pattern string, h Handler) {
	if pattern == "" || h == nil {
		panic("rpc: RespondMux.Handle with an empty pattern or nil handler")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exact == nil {
		m.exact = map[string]Handler{}
	}
	if _, _, ok := m.lookupLocked(pattern, true); ok {
		panic(fmt.Sprintf("rpc: RespondMux: pattern %q registered twice", pattern))
	}
	if !isPrefixPattern(pattern) {
		m.exact[pattern] = h
		return
	}
	m.prefixes = append(m.prefixes, prefixEntry{pattern, h})
	sort.SliceStable(m.prefixes, func(i, j int) bool { return len(m.prefixes[i].prefix) > len(m.prefixes[j].prefix) })
}

// HandleFunc registers f for pattern.
func (m *RespondMux) HandleFunc(pattern string, f func(Responder, *Call)) {
	m.Handle(pattern, HandlerFunc(f))
}

// Remove unregisters pattern, reporting whether it was registered.
func (m *RespondMux) Remove(pattern string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.exact[pattern]; ok {
		delete(m.exact, pattern)
		return true
	}
	for i, e := range m.prefixes {
		if e.prefix == pattern {
			m.prefixes = append(m.prefixes[:i], m.prefixes[i+1:]...)
			return true
		}
	}
	return false
}

// Match returns the handler for selector and the pattern it matched.
func (m *RespondMux) Match(selector string) (h Handler, pattern string, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.lookupLocked(selector, false)
}

// Patterns returns the registered patterns, sorted.
func (m *RespondMux) Patterns() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ps := make([]string, 0, len(m.exact)+len(m.prefixes))
	for p := range m.exact {
		ps = append(ps, p)
	}
	for _, e := range m.prefixes {
		ps = append(ps, e.prefix)
	}
	sort.Strings(ps)
	return ps
}

// lookupLocked finds the handler for selector; with samePattern, only a
// pattern equal to selector counts.
func (m *RespondMux) lookupLocked(selector string, samePattern bool) (Handler, string, bool) {
	if h, ok := m.exact[selector]; ok {
		return h, selector, true
	}
	for _, e := range m.prefixes {
		if samePattern && e.prefix != selector {
			continue
		}
		if strings.HasPrefix(selector, e.prefix) {
			return e.h, e.prefix, true
		}
	}
	return nil, "", false
}

// RespondRPC routes the call.
func (m *RespondMux) RespondRPC(r Responder, c *Call) {
	h, pattern, ok := m.Match(c.Selector)
	if !ok {
		r.Error(Errorf(CodeNotFound, "no handler for %s", quote.Bounded(c.FullSelector)))
		return
	}
	if isPrefixPattern(pattern) {
		c.Selector = c.Selector[len(pattern):]
	}
	h.RespondRPC(r, c)
}
