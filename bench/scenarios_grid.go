package main

import (
	"context"
	"fmt"
	"time"

	"github.com/qtalkkit/qtalk/grid"
	"github.com/qtalkkit/qtalk/internal/stall"
	qtransport "github.com/qtalkkit/qtalk/transport"
)

const (
	mDetectMs     = "detect ms"
	mDetectBound  = "detect ÷ bound"
	mRecoverMs    = "recover ms"
	gridPingEvery = 100 * time.Millisecond
	gridPingWait  = 200 * time.Millisecond
	gridDialWait  = 200 * time.Millisecond
	gridRedialMax = 200 * time.Millisecond
	// gridDetectSlack is what the detect target allows over the bound: the
	// ping's timer and the goroutines that notice it fire a little after
	// the bound's instant.
	gridDetectSlack = 1.1
)

// gridTargets checks the link's times against the bounds its settings
// promise: a silent peer found within ping_interval + ping_timeout, and
// the link back within dial_timeout + reconnect_max of the peer answering
// again (a dial under way ends within dial_timeout, and the next starts
// within reconnect_max).
func gridTargets() []target {
	recoverBound := float64(gridDialWait+gridRedialMax) / float64(time.Millisecond)
	return []target{
		valueTarget("grid link: a silent peer found",
			fmt.Sprintf("within ping_interval + ping_timeout (%v), %.0f%% slack", gridPingEvery+gridPingWait, (gridDetectSlack-1)*100),
			"grid detect / bound", figure{"grid-link", "qtalk grid", mDetectBound}, gridDetectSlack, true),
		valueTarget("grid link: back after the peer answers again",
			fmt.Sprintf("within dial_timeout + reconnect_max (%.0f ms)", recoverBound),
			"grid recover / bound", figure{"grid-link", "qtalk grid", mRecoverMs}, recoverBound, true),
	}
}

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
			"forwarding again until the link is connected (the dialer redials after its backoff, %v to %v, each dial "+
			"bounded by dial_timeout = %v).",
			gridPingEvery+gridPingWait, 20*time.Millisecond, gridRedialMax, gridDialWait),
		cols: []metric{
			{name: mDetectMs, lowerBetter: true, format: "%.0f"},
			{name: mDetectBound, lowerBetter: true, format: "%.2f"},
			{name: mRecoverMs, lowerBetter: true, format: "%.0f"},
		},
		impls: []impl{{name: "qtalk grid", kind: qtalkImpl, run: runGridLink}},
	}
}

func runGridLink(rec recorder) error {
	var relays [2]*stall.Relay
	var lns [2]qtransport.Listener
	var hosts []string
	for i := range lns {
		ln, err := qtransport.Listen(context.Background(), "tcp://127.0.0.1:0")
		if err != nil {
			return err
		}
		lns[i] = ln
		r, err := stall.New(ln.Addr().String())
		if err != nil {
			return err
		}
		defer r.Close()
		relays[i] = r
		hosts = append(hosts, "tcp://"+r.Addr())
	}
	var ms [2]*grid.Manager
	for i := range ms {
		m, err := grid.New(grid.Config{Self: hosts[i], Hosts: hosts, Listener: lns[i],
			PingInterval: gridPingEvery, PingTimeout: gridPingWait,
			DialTimeout: gridDialWait, ReconnectMin: 20 * time.Millisecond, ReconnectMax: gridRedialMax})
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
		r.Pause(true)
	}
	detect, err := awaitLinkStatus(c, grid.Disconnected, 10*time.Second)
	if err != nil {
		return err
	}
	rec(mDetectMs, float64(detect.Sub(start))/float64(time.Millisecond))
	rec(mDetectBound, float64(detect.Sub(start))/float64(gridPingEvery+gridPingWait))
	start = time.Now()
	for _, r := range relays {
		r.Pause(false)
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
