package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/grid"
	qtransport "github.com/qtalkkit/qtalk/transport"
)

const (
	mDetectMs     = "detect ms"
	mDetectBound  = "detect ÷ bound"
	mRecoverMs    = "recover ms"
	gridPingEvery = 100 * time.Millisecond
	gridPingWait  = 200 * time.Millisecond
)

// gridLinkScenario measures how long a grid link takes to find that its
// peer went silent, and to come back once it answers again, against the
// bound its ping settings promise.
func gridLinkScenario(cfg *config) *scenario {
	return &scenario{
		id:    "grid-link",
		title: "Grid link: a silent peer found, and the link back",
		about: fmt.Sprintf("Two grid hosts in one process, each reached through a relay over loopback TCP; the relays stop "+
			"forwarding without closing anything (a stopped or cut-off peer). Detect is the time until the caller's link "+
			"is disconnected, against the bound ping_interval + ping_timeout = %v; recover is the time from the relays "+
			"forwarding again until the link is connected (the dialer redials after its backoff, %v to %v).",
			gridPingEvery+gridPingWait, 20*time.Millisecond, 200*time.Millisecond),
		cols: []metric{
			{name: mDetectMs, lowerBetter: true, format: "%.0f"},
			{name: mDetectBound, lowerBetter: true, format: "%.2f"},
			{name: mRecoverMs, lowerBetter: true, format: "%.0f"},
		},
		impls: []impl{{name: "qtalk grid", kind: qtalkImpl, run: runGridLink}},
	}
}

func runGridLink(rec recorder) error {
	var relays [2]*relay
	var lns [2]qtransport.Listener
	var hosts []string
	for i := range lns {
		ln, err := qtransport.Listen(context.Background(), "tcp://127.0.0.1:0")
		if err != nil {
			return err
		}
		lns[i] = ln
		r, err := newRelay(ln.Addr().String())
		if err != nil {
			return err
		}
		defer r.close()
		relays[i] = r
		hosts = append(hosts, "tcp://"+r.ln.Addr().String())
	}
	var ms [2]*grid.Manager
	for i := range ms {
		m, err := grid.New(grid.Config{Self: hosts[i], Hosts: hosts, Listener: lns[i],
			PingInterval: gridPingEvery, PingTimeout: gridPingWait,
			ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
		if err != nil {
			return err
		}
		defer m.Close()
		if err := m.Start(context.Background()); err != nil {
			return err
		}
		ms[i] = m
	}
	c, err := ms[0].Connection(hosts[1])
	if err != nil {
		return err
	}
	if _, err := awaitLinkStatus(c, grid.Connected, 10*time.Second); err != nil {
		return err
	}
	start := time.Now()
	for _, r := range relays {
		r.setPaused(true)
	}
	detect, err := awaitLinkStatus(c, grid.Disconnected, 10*time.Second)
	if err != nil {
		return err
	}
	rec(mDetectMs, float64(detect.Sub(start))/float64(time.Millisecond))
	rec(mDetectBound, float64(detect.Sub(start))/float64(gridPingEvery+gridPingWait))
	start = time.Now()
	for _, r := range relays {
		r.setPaused(false)
	}
	up, err := awaitLinkStatus(c, grid.Connected, 10*time.Second)
	if err != nil {
		return err
	}
	rec(mRecoverMs, float64(up.Sub(start))/float64(time.Millisecond))
	return nil
}

// awaitLinkStatus waits until c's link has status s and returns when it
// got there.
func awaitLinkStatus(c *grid.Connection, s grid.Status, within time.Duration) (time.Time, error) {
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	for {
		changed := c.Changed()
		if st := c.State(); st.Status == s {
			return st.Since, nil
		}
		select {
		case <-changed:
		case <-timeout.C:
			return time.Time{}, fmt.Errorf("grid link to %s: %v after %v, want %v", c.Host(), c.State().Status, within, s)
		}
	}
}

// A relay forwards TCP connections to a target, and while paused holds
// every byte without closing anything.
type relay struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	paused bool
	resume chan struct{} // closed when the relay resumes
	conns  []net.Conn
}

func newRelay(target string) (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, target: target, resume: make(chan struct{})}
	r.wg.Go(r.accept)
	return r, nil
}

func (r *relay) accept() {
	for {
		down, err := r.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", r.target)
		if err != nil {
			down.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, down, up)
		r.mu.Unlock()
		r.wg.Go(func() { r.forward(up, down) })
		r.wg.Go(func() { r.forward(down, up) })
	}
}

// forward copies src to dst, holding each chunk while the relay is paused.
func (r *relay) forward(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		r.mu.Lock()
		paused, resume := r.paused, r.resume
		r.mu.Unlock()
		if paused {
			<-resume
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *relay) setPaused(p bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case p && !r.paused:
		r.resume = make(chan struct{})
	case !p && r.paused:
		close(r.resume)
	}
	r.paused = p
}

func (r *relay) close() {
	r.ln.Close()
	r.setPaused(false)
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
