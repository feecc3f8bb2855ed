package grid_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
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

// steadyConfig is fastConfig with a ping timeout of a minute, longer than
// any test that uses it runs, for tests that move megabytes on a busy
// machine and must not see a ping time out. The default's 2 s was not
// enough: on a machine loaded 25 times over, a process under -race can
// get no CPU for 4 s, and a link whose ping is not answered in time is
// closed, as it must be (the other host looks silent).
var steadyConfig = func() grid.Config {
	c := fastConfig
	c.PingTimeout = time.Minute
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

// listenOutsideEphemeral is listen on a loopback port outside the range
// the kernel picks local ports from, for a host that closes and listens
// again on its address: a port from that range, once free, may be taken
// meanwhile as the local port of a connection, this process's or
// another's (the dialer reconnecting to it can even connect to itself),
// and listening again fails with 'address already in use'. Where the
// range is unknown it is listen.
func listenOutsideEphemeral(t *testing.T) (transport.Listener, string) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	var lo, hi int
	if err == nil {
		_, err = fmt.Sscan(string(b), &lo, &hi)
	}
	const floor = 10000
	if err != nil || lo <= floor+100 {
		return listen(t)
	}
	for range 100 {
		port := floor + rand.IntN(lo-floor)
		ln, err := transport.Listen(context.Background(), fmt.Sprintf("tcp://127.0.0.1:%d", port))
		if err == nil {
			return ln, "tcp://" + ln.Addr().String()
		}
	}
	t.Fatalf("no free loopback port in [%d, %d)", floor, lo)
	return nil, ""
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

// A stallMeter measures the time the scheduler takes away from the test
// process on a loaded machine: a goroutine wakes on a 5 ms ticker, and
// every wake later than the tick is time the process (or at least that
// goroutine) did not run, less stallJitter. Tests that bound how long the code takes add
// Lost to the bound, so that they do not fail for the time the machine
// gave to others, and still fail when the code itself is slow.
type stallMeter struct {
	stop chan struct{}
	done chan struct{}
	lost atomic.Int64 // nanoseconds
}

// stallTick is the period of a stallMeter's ticker, and stallJitter the
// lateness of a tick it takes for the timers' own: ticks under -race
// come about 0.2 ms late at the median when the process runs, which
// would otherwise count as 4% of the time lost. (A millisecond, as
// before, hid real losses: a machine that gives the process a slice of
// each tick's 5 ms loses it a little at every tick.)
const (
	stallTick   = 5 * time.Millisecond
	stallJitter = 250 * time.Microsecond
)

// meterStalls starts a stallMeter, which the test's cleanup stops.
func meterStalls(t *testing.T) *stallMeter {
	s := &stallMeter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(stallTick)
		defer tk.Stop()
		last := time.Now()
		for {
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
			now := time.Now()
			if late := now.Sub(last) - stallTick - stallJitter; late > 0 {
				s.lost.Add(int64(late))
			}
			last = now
		}
	}()
	t.Cleanup(s.end)
	return s
}

// Lost returns the time lost to the scheduler since the meter started.
func (s *stallMeter) Lost() time.Duration { return time.Duration(s.lost.Load()) }

// end stops the meter; it may be called more than once.
func (s *stallMeter) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}
