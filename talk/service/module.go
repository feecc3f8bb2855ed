package service

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// A Factory makes the module of a local service: it registers the
// module's procedures on m, and may start what they need (stopping it
// with OnClose or m.Context()). A server calls it each time it opens a
// service of the module: a module mounted under two names is made twice.
// The service opens when the factory returns; an error refuses the
// config that named the module. The factory runs without the server's
// locks held: it may call the server's methods, but not Reload, Close or
// Shutdown, which may wait for it.
type Factory func(m *Module) error

// modules is the registry of compiled-in modules.
var modules struct {
	mu        sync.RWMutex
	factories map[string]Factory // guarded by mu; by import path
}

// RegisterModule makes a module available to configs under path, its
// import path by convention ("example.net/chat"), as database/sql
// drivers are: call it from an init function of the module's package,
// and import the package (for its side effect) in the program. It
// panics if path is empty or taken, or f is nil.
func RegisterModule(path string, f Factory) {
	if path == "" || f == nil {
		panic("service: RegisterModule with an empty path or a nil factory")
	}
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if modules.factories == nil {
		modules.factories = map[string]Factory{}
	}
	if _, ok := modules.factories[path]; ok {
		panic(fmt.Sprintf("service: RegisterModule called twice for %q", path))
	}
	modules.factories[path] = f
}

// Modules returns the import paths of the registered modules, sorted.
func Modules() []string {
	modules.mu.RLock()
	defer modules.mu.RUnlock()
	paths := make([]string, 0, len(modules.factories))
	for p := range modules.factories {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

func factory(path string) (Factory, bool) {
	modules.mu.RLock()
	defer modules.mu.RUnlock()
	f, ok := modules.factories[path]
	return f, ok
}

// A Module is a running instance of a module: a named bundle of rpc
// procedures and raw-channel handlers that a server mounts as a service.
// Its Factory registers them with Handle, HandleFunc and HandleChannel:
// the service "chat" of a module with a procedure "send" answers
// chat:send, and a service "guild" of another module with its own "send"
// answers guild:send.
//
// A module has a lifecycle of its own, apart from the connections of its
// clients: it opens once its factory has returned (subscribers get the
// event "open"), and closes once, when it calls Close itself or when the
// server closes it (the service was removed or changed by a reload, or
// the server closed); subscribers then get "close", calls to the service
// fail with rpc.CodeUnavailable (or go to its fallback) and the module's
// Context ends. Clients coming and going do not open or close it. In
// between, Emit sends events of its own.
type Module struct {
	name, path string
	options    map[string]any
	routes     talk.Routes
	publish    func(event string, param any) // to the subscribers
	ctx        context.Context
	cancel     context.CancelFunc

	mu         sync.Mutex
	state      moduleState // guarded by mu
	onClose    []func()    // guarded by mu
	onShutdown []func()    // guarded by mu; nil once they ran
}

type moduleState int

const (
	moduleOpening moduleState = iota
	moduleOpen
	moduleClosed
)

func newModule(name, path string, options map[string]any, publish func(string, any)) *Module {
	m := &Module{name: name, path: path, options: options, publish: publish}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Name returns the name of the service the module is mounted as: the
// module of its labels.
func (m *Module) Name() string { return m.name }

// Path returns the import path the module was registered under.
func (m *Module) Path() string { return m.path }

// Options returns the options table of the service's config (nil if it
// has none), as decoded from TOML: strings, int64, float64, bool,
// time.Time, []any and map[string]any.
func (m *Module) Options() map[string]any { return m.options }

// Context returns a context that ends when the module closes.
func (m *Module) Context() context.Context { return m.ctx }

// Routes returns the module's routes, for registering with a Matcher
// (talk.Routes.HandleMatch) or listing.
func (m *Module) Routes() *talk.Routes { return &m.routes }

// Handle registers h for pattern: a name, or a prefix followed by "*"
// (see talk.Routes). The handler sees the name in Call.Selector and the
// whole label, parameters included, with talk.LabelOf. Like
// talk.Routes.Handle, it panics on a bad or taken pattern.
func (m *Module) Handle(pattern string, h rpc.Handler) { m.routes.Handle(pattern, h) }

// HandleFunc registers f for pattern, like Handle.
func (m *Module) HandleFunc(pattern string, f func(rpc.Responder, *rpc.Call)) {
	m.routes.HandleFunc(pattern, f)
}

// HandleChannel registers a raw-channel handler for pattern, like Handle:
// clients reach it with talk.OpenChannel.
func (m *Module) HandleChannel(pattern string, h talk.ChannelHandler) {
	m.routes.HandleChannel(pattern, h)
}

// OnClose registers f to run when the module closes, before subscribers
// get "close". If the module is closed already, f runs at once. Like a
// Factory, f runs without the server's locks held, and must not call the
// server's Reload, Close or Shutdown.
func (m *Module) OnClose(f func()) {
	m.mu.Lock()
	if m.state != moduleClosed {
		m.onClose = append(m.onClose, f)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	f()
}

// OnShutdown registers f to run when the server begins to shut down
// (Server.Shutdown), once it takes no more calls and before it waits for
// those in flight: a module ends its long calls there, such as
// subscriptions, which would otherwise hold the shutdown until its
// deadline. Calls in progress go on, and OnClose functions still run when
// the module closes. f runs without the server's locks held, and must not
// call the server's Reload, Close or Shutdown.
func (m *Module) OnShutdown(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onShutdown = append(m.onShutdown, f)
}

// shutdown runs the functions of OnShutdown, once.
func (m *Module) shutdown() {
	m.mu.Lock()
	hooks := m.onShutdown
	m.onShutdown = nil
	m.mu.Unlock()
	for _, f := range hooks {
		f()
	}
}

// Emit sends the event to the subscribers of the service, who get it as
// "service/event" (chat/message) with param, encoded with their codec.
// The event is a label name (letters, digits, '-', '_', '.'); "open" and
// "close" are the lifecycle's own. Emit does not wait for subscribers: a
// subscriber too slow to keep up loses its subscription. It fails with an
// error matching ErrNotOpen unless the module is open, and with one
// matching ErrBadEvent for a bad event name.
func (m *Module) Emit(event string, param any) error {
	if err := checkEvent(event); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != moduleOpen {
		return fmt.Errorf("service %s: emit %q: %w", m.name, event, ErrNotOpen)
	}
	m.publish(event, param)
	return nil
}

// checkEvent checks an event name a module emits.
func checkEvent(event string) error {
	if _, err := label.Parse("m:" + event); err != nil {
		return fmt.Errorf("%w: %q is not a label name", ErrBadEvent, event)
	}
	if event == EventOpen || event == EventClose {
		return fmt.Errorf("%w: %q belongs to the lifecycle", ErrBadEvent, event)
	}
	return nil
}

// Close closes the module: its Context ends, the functions of OnClose
// run, subscribers get "close", and calls to the service fail from then
// on. Calls in progress go on. Closing a closed module does nothing.
func (m *Module) Close() error {
	m.close()
	return nil
}

// open marks the module open and tells the subscribers.
func (m *Module) open() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == moduleOpening {
		m.state = moduleOpen
		m.publish(EventOpen, nil)
	}
}

// close closes the module, telling the subscribers if it was open.
func (m *Module) close() {
	m.mu.Lock()
	if m.state == moduleClosed {
		m.mu.Unlock()
		return
	}
	wasOpen := m.state == moduleOpen
	m.state = moduleClosed
	hooks := m.onClose
	m.onClose = nil
	m.mu.Unlock()
	m.cancel()
	for _, f := range hooks {
		f()
	}
	if wasOpen {
		m.publish(EventClose, nil)
	}
}

// isOpen reports whether calls can be served.
func (m *Module) isOpen() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state == moduleOpen
}
