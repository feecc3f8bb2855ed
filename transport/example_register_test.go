package transport_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// memConnector is a connector for in-process addresses "mem://name": Listen
// claims the name, Dial connects to it over an in-memory pipe.
type memConnector struct {
	mu        sync.Mutex
	listeners map[string]*memListener
}

func (m *memConnector) Listen(ctx context.Context, a transport.Address, o *transport.Options) (transport.Listener, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.listeners[a.Host]; taken {
		return nil, fmt.Errorf("mem: %q already listened on", a.Host)
	}
	l := &memListener{m: m, name: a.Host, opts: o, conns: make(chan net.Conn), done: make(chan struct{})}
	m.listeners[a.Host] = l
	return l, nil
}

func (m *memConnector) Dial(ctx context.Context, a transport.Address, o *transport.Options) (mux.Session, error) {
	m.mu.Lock()
	l := m.listeners[a.Host]
	m.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("mem: nothing listens on %q", a.Host)
	}
	local, remote := pipe.New()
	select {
	case l.conns <- remote:
		return transport.NewSession(local, o)
	case <-l.done:
		return nil, transport.ErrListenerClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memListener struct {
	m     *memConnector
	name  string
	opts  *transport.Options
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *memListener) Accept(ctx context.Context) (mux.Session, error) {
	select {
	case c := <-l.conns:
		return transport.NewSession(c, l.opts)
	case <-l.done:
		return nil, transport.ErrListenerClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.m.mu.Lock()
		delete(l.m.listeners, l.name)
		l.m.mu.Unlock()
	})
	return nil
}

func (l *memListener) Addr() net.Addr { return mux.Addr{Net: "mem", Name: l.name} }

func init() {
	transport.Register("mem", &memConnector{listeners: make(map[string]*memListener)})
}

// A connector for a new scheme, registered from an init function, makes
// Dial and Listen work with addresses of that scheme.
func Example_register() {
	ctx := context.Background()
	ln, err := transport.Listen(ctx, "mem://greeter")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	go func() {
		sess, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		defer sess.Close()
		ch, err := sess.Accept(ctx)
		if err != nil {
			return
		}
		defer ch.Close()
		fmt.Fprint(ch, "hello from ", ln.Addr())
		ch.CloseWrite()
		io.Copy(io.Discard, ch) // until the client closes
	}()

	sess, err := transport.Dial(ctx, "mem://greeter")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close()
	ch, err := sess.Open(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := io.ReadAll(ch)
	ch.Close()
	fmt.Println(string(msg))
	// Output: hello from greeter
}
