package grid_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/grid"
	"github.com/qtalkkit/qtalk/transport"
)

// fastConfig detects a silent link within 300 ms and redials quickly.
var fastConfig = grid.Config{
	PingInterval: 100 * time.Millisecond,
	PingTimeout:  200 * time.Millisecond,
	DialTimeout:  2 * time.Second,
	ReconnectMin: 20 * time.Millisecond,
	ReconnectMax: 200 * time.Millisecond,
}

// steadyConfig is fastConfig with the default ping timeout, for tests that
// move megabytes on a busy machine and must not see a ping time out.
var steadyConfig = func() grid.Config {
	c := fastConfig
	c.PingTimeout = grid.DefaultPingTimeout
	return c
}()

// listen opens a tcp listener on a free loopback port and returns it with
// its address.
func listen(t *testing.T) (transport.Listener, string) {
	t.Helper()
	ln, err := transport.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "tcp://" + ln.Addr().String()
}

// cluster makes n managers that know each other, each with the handlers
// setup registers, and starts them. self[i] is the address manager i is
// known by; addrs nil means each listens on its own free port.
func cluster(t *testing.T, n int, cfg grid.Config, setup func(i int, m *grid.Manager)) []*grid.Manager {
	t.Helper()
	lns := make([]transport.Listener, n)
	hosts := make([]string, n)
	for i := range n {
		lns[i], hosts[i] = listen(t)
	}
	return start(t, cfg, lns, hosts, setup)
}

// start makes a manager per listener, known by hosts[i], and starts them
// all at once.
func start(t *testing.T, cfg grid.Config, lns []transport.Listener, hosts []string, setup func(i int, m *grid.Manager)) []*grid.Manager {
	t.Helper()
	ms := make([]*grid.Manager, len(lns))
	for i := range lns {
		c := cfg
		c.Self, c.Hosts, c.Listener = hosts[i], hosts, lns[i]
		m, err := grid.New(c)
		if err != nil {
			t.Fatal(err)
		}
		if setup != nil {
			setup(i, m)
		}
		ms[i] = m
		t.Cleanup(func() { m.Close() })
	}
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() {
			if err := m.Start(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return ms
}

// conn returns the connection from m to other.
func conn(t *testing.T, m, other *grid.Manager) *grid.Connection {
	t.Helper()
	c, err := m.Connection(other.Self())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// awaitStatus waits until c's link has status s, for at most within.
func awaitStatus(t *testing.T, c *grid.Connection, s grid.Status, within time.Duration) grid.State {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		changed := c.Changed()
		if st := c.State(); st.Status == s {
			return st
		}
		select {
		case <-changed:
		case <-deadline.C:
			st := c.State()
			t.Fatalf("link to %s: %v (err %v) after %v, want %v", c.Host(), st.Status, st.Err, within, s)
			return st
		}
	}
}

// awaitAll waits until every link of every manager is connected.
func awaitAll(t *testing.T, ms []*grid.Manager, within time.Duration) {
	t.Helper()
	for _, m := range ms {
		for _, c := range m.Connections() {
			awaitStatus(t, c, grid.Connected, within)
		}
	}
}

// A proxy forwards tcp connections to a target and can freeze them all:
// a frozen proxy forwards nothing and closes nothing, as a peer that was
// stopped or cut off.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex // guards the fields below
	frozen bool
	thaw   chan struct{} // closed when the proxy thaws
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, thaw: make(chan struct{})}
	p.wg.Go(p.serve)
	t.Cleanup(p.close)
	return p
}

// addr is the proxy's address as a grid host.
func (p *proxy) addr() string { return "tcp://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(u, c) })
		p.wg.Go(func() { p.pipe(c, u) })
	}
}

// pipe copies from src to dst, holding each chunk while the proxy is
// frozen.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			frozen, thaw := p.frozen, p.thaw
			p.mu.Unlock()
			if frozen {
				<-thaw
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a closed connection: dst is closed in turn
		}
	}
}

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.thaw = make(chan struct{})
	}
}

func (p *proxy) unfreeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thaw)
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.unfreeze()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
