package talk

import (
	"fmt"
	"github.com/qtalkkit/qtalk/internal/quote"
	"sort"
	"strings"
	"sync"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
)

// A Router is an rpc.Handler that routes calls by label (package label):
// first by module, then by name within the module's Routes. Parameters
// play no part in routing; the handler reads them with LabelOf. Labels
// with a host are not routed: a Router serves its own modules only.
//
//	rt := talk.NewRouter()
//	rt.HandleFunc("chat:send", send)           // exactly chat:send
//	rt.HandleFunc("files:docs.*", docs)        // chat:docs.readme, ...
//	rt.HandleChannel("files:upload", upload)   // a raw byte stream
//	rt.Mount("calc", calcRoutes)               // a module's Routes
//
// Two modules can have the same names: chat:send and guild:send are
// different routes. A call that matches nothing, or whose selector is not
// a label, gets a CodeNotFound error. A Router is safe for concurrent
// use, and routes can change while it serves.
type Router struct {
	mu      sync.RWMutex
	modules map[string]*Routes // guarded by mu
}

// NewRouter returns an empty Router.
func NewRouter() *Router { return &Router{modules: map[string]*Routes{}} }

// Handle registers h for pattern, "module:name" or "module:prefix*" (see
// Routes.Handle). It panics on a pattern that is not of that form or
// already taken, as those are programming errors.
func (rt *Router) Handle(pattern string, h rpc.Handler) {
	module, name := splitPattern(pattern)
	rt.routes(module).Handle(name, h)
}

// HandleFunc registers f for pattern, like Handle.
func (rt *Router) HandleFunc(pattern string, f func(rpc.Responder, *rpc.Call)) {
	rt.Handle(pattern, rpc.HandlerFunc(f))
}

// HandleChannel registers a raw-channel handler for pattern, like Handle.
func (rt *Router) HandleChannel(pattern string, h ChannelHandler) {
	rt.Handle(pattern, ChannelRPC(h))
}

// splitPattern splits "module:name" and checks the module.
func splitPattern(pattern string) (module, name string) {
	module, name, ok := strings.Cut(pattern, ":")
	if !ok {
		panic(fmt.Sprintf("talk: route pattern %q is not module:name", pattern))
	}
	if _, err := label.Parse(module + ":x"); err != nil {
		panic(fmt.Sprintf("talk: route pattern %q: %v", pattern, err))
	}
	return module, name
}

// routes returns the Routes of module, making them if need be.
func (rt *Router) routes(module string) *Routes {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.modules == nil {
		rt.modules = map[string]*Routes{}
	}
	t := rt.modules[module]
	if t == nil {
		t = new(Routes)
		rt.modules[module] = t
	}
	return t
}

// Mount serves routes as module. It panics if module is not a valid label
// module or already has routes.
func (rt *Router) Mount(module string, routes *Routes) {
	if _, err := label.Parse(module + ":x"); err != nil {
		panic(fmt.Sprintf("talk: Mount(%q): %v", module, err))
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.modules == nil {
		rt.modules = map[string]*Routes{}
	}
	if rt.modules[module] != nil {
		panic(fmt.Sprintf("talk: Mount(%q): the module is taken", module))
	}
	rt.modules[module] = routes
}

// Unmount stops serving module, reporting whether it was served. Calls in
// progress go on.
func (rt *Router) Unmount(module string) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	_, ok := rt.modules[module]
	delete(rt.modules, module)
	return ok
}

// Routes returns the routes of module, or nil.
func (rt *Router) Routes(module string) *Routes {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	return rt.modules[module]
}

// Labels returns the routes of every module as "module:pattern", sorted.
func (rt *Router) Labels() []string {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	var out []string
	for module, t := range rt.modules {
		for _, p := range t.Patterns() {
			out = append(out, module+":"+p)
		}
	}
	sort.Strings(out)
	return out
}

// RespondRPC routes the call by the label in its selector.
func (rt *Router) RespondRPC(r rpc.Responder, c *rpc.Call) {
	l, err := label.Parse(c.Selector)
	if err != nil {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "no handler for %s: %w", quote.Bounded(c.FullSelector), err))
		return
	}
	if l.Host != "" {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "no handler for %s: labels with a host are not served here", quote.Bounded(c.FullSelector)))
		return
	}
	t := rt.Routes(l.Module)
	if t == nil {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "no module %q for %q", l.Module, c.FullSelector))
		return
	}
	t.Serve(r, c, l)
}

// Routes map the names of one module to handlers: a Router keeps one per
// module. A pattern is a name, matched exactly, or a prefix followed by
// "*", matching every name that starts with the prefix ("*" alone
// matches every name); HandleMatch takes any label.Matcher. An exact
// route wins over prefix routes, the longest prefix wins among those, and
// Matchers are tried last, in the order registered.
//
// The handler of a call sees the name in Call.Selector, without the
// parameters; under a prefix route it sees the rest of the name after the
// prefix, so an *rpc.RespondMux or the handler of fn.HandlerFrom mounted
// under "calc.*" serves calc.add as "add". The zero Routes is empty and
// ready to use; Routes are safe for concurrent use.
type Routes struct {
	mu       sync.RWMutex
	exact    map[string]rpc.Handler // guarded by mu
	prefixes []prefixRoute          // guarded by mu; longest first
	matchers []matcherRoute         // guarded by mu; in the order registered
}

type prefixRoute struct {
	prefix string
	h      rpc.Handler
}

type matcherRoute struct {
	name string
	m    label.Matcher
	h    rpc.Handler
}

// Handle registers h for pattern: a name, or a prefix followed by "*". It
// panics if pattern is not a valid name or prefix, or is taken.
func (t *Routes) Handle(pattern string, h rpc.Handler) {
	if h == nil {
		panic("talk: Routes.Handle with a nil handler")
	}
	prefix, isPrefix := strings.CutSuffix(pattern, "*")
	if isPrefix && prefix != "" || !isPrefix {
		if _, err := label.Parse("m:" + prefix); err != nil {
			panic(fmt.Sprintf("talk: route pattern %q: %v", pattern, err))
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.takenLocked(pattern) {
		panic(fmt.Sprintf("talk: route pattern %q registered twice", pattern))
	}
	if !isPrefix {
		if t.exact == nil {
			t.exact = map[string]rpc.Handler{}
		}
		t.exact[pattern] = h
		return
	}
	t.prefixes = append(t.prefixes, prefixRoute{prefix, h})
	sort.SliceStable(t.prefixes, func(i, j int) bool { return len(t.prefixes[i].prefix) > len(t.prefixes[j].prefix) })
}

// HandleFunc registers f for pattern, like Handle.
func (t *Routes) HandleFunc(pattern string, f func(rpc.Responder, *rpc.Call)) {
	t.Handle(pattern, rpc.HandlerFunc(f))
}

// HandleChannel registers a raw-channel handler for pattern, like Handle.
func (t *Routes) HandleChannel(pattern string, h ChannelHandler) {
	t.Handle(pattern, ChannelRPC(h))
}

// HandleMatch registers h for the labels m matches, tried after the exact
// and prefix routes. The handler sees the whole name in Call.Selector.
// name is how Patterns lists the route; it must not be taken.
func (t *Routes) HandleMatch(name string, m label.Matcher, h rpc.Handler) {
	if h == nil || m == nil || name == "" {
		panic("talk: Routes.HandleMatch with an empty name or a nil matcher or handler")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.takenLocked(name) {
		panic(fmt.Sprintf("talk: route %q registered twice", name))
	}
	t.matchers = append(t.matchers, matcherRoute{name, m, h})
}

func (t *Routes) takenLocked(pattern string) bool {
	if _, ok := t.exact[pattern]; ok {
		return true
	}
	for _, p := range t.prefixes {
		if p.prefix+"*" == pattern {
			return true
		}
	}
	for _, m := range t.matchers {
		if m.name == pattern {
			return true
		}
	}
	return false
}

// Remove unregisters the route of pattern (or the name of a HandleMatch),
// reporting whether there was one.
func (t *Routes) Remove(pattern string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.exact[pattern]; ok {
		delete(t.exact, pattern)
		return true
	}
	for i, p := range t.prefixes {
		if p.prefix+"*" == pattern {
			t.prefixes = append(t.prefixes[:i], t.prefixes[i+1:]...)
			return true
		}
	}
	for i, m := range t.matchers {
		if m.name == pattern {
			t.matchers = append(t.matchers[:i], t.matchers[i+1:]...)
			return true
		}
	}
	return false
}

// Patterns returns the registered patterns, sorted.
func (t *Routes) Patterns() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	ps := make([]string, 0, len(t.exact)+len(t.prefixes)+len(t.matchers))
	for p := range t.exact {
		ps = append(ps, p)
	}
	for _, p := range t.prefixes {
		ps = append(ps, p.prefix+"*")
	}
	for _, m := range t.matchers {
		ps = append(ps, m.name)
	}
	sort.Strings(ps)
	return ps
}

// Match returns the handler for l and the name its handler sees (the
// rest after the prefix of a prefix route), ignoring l's module and host.
func (t *Routes) Match(l label.Label) (h rpc.Handler, name string, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if h, ok := t.exact[l.Name]; ok {
		return h, l.Name, true
	}
	for _, p := range t.prefixes {
		if strings.HasPrefix(l.Name, p.prefix) {
			return p.h, l.Name[len(p.prefix):], true
		}
	}
	for _, m := range t.matchers {
		if m.m.Match(l) {
			return m.h, l.Name, true
		}
	}
	return nil, "", false
}

// Serve answers the call c for l with the matching handler, or with a
// CodeNotFound error.
func (t *Routes) Serve(r rpc.Responder, c *rpc.Call, l label.Label) {
	h, name, ok := t.Match(l)
	if !ok {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "no handler for %s", quote.Bounded(c.FullSelector)))
		return
	}
	c.Selector = name
	h.RespondRPC(r, c)
}

// RespondRPC serves the call by the label in Call.Selector, whatever its
// module: Routes are a handler on their own too.
func (t *Routes) RespondRPC(r rpc.Responder, c *rpc.Call) {
	l, err := label.Parse(c.Selector)
	if err != nil {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "no handler for %s: %w", quote.Bounded(c.FullSelector), err))
		return
	}
	t.Serve(r, c, l)
}

// LabelOf returns the label of a call: its FullSelector parsed, with the
// parameters the client sent. It fails with an error matching
// label.ErrInvalid if the selector is not a label (for example because a
// RespondMux in front routed the call by a prefix of its own).
func LabelOf(c *rpc.Call) (label.Label, error) {
	return label.Parse(c.FullSelector)
}
