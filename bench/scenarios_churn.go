package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	mOpsPerSec  = "opens/s"
	mGoroutines = "goroutines after-before"
	mHeapKiB    = "heap after-before KiB"

	churnWorkers = 16
)

// churnTransports are the transports of the churn and idle scenarios: the
// muxes and bare quic-go streams, not raw TCP.
var churnTransports = []string{"qmux", "yamux", "smux", quicRef, "mux/quic"}

// churnScenario measures opening and closing channels.
func churnScenario(cfg *config) *scenario {
	sc := &scenario{
		id:    "churn",
		title: "Channel open/close churn",
		about: fmt.Sprintf("%d client goroutines each open a channel and close it, in a loop; the server accepts and closes each. "+
			"A run ends once the server has accepted every channel opened. Goroutines and heap (after GC) are "+
			"compared with the sessions' idle state before the run, sessions still open.", churnWorkers),
		cols: []metric{
			{name: mOpsPerSec, format: "%.0f"},
			{name: mGoroutines, lowerBetter: true, format: "%.0f"},
			{name: mHeapKiB, lowerBetter: true, format: "%.0f"},
		},
	}
	for _, t := range transportsNamed(churnTransports...) {
		sc.impls = append(sc.impls, impl{name: t.name, kind: t.kind, overQUIC: t.overQUIC, run: func(rec recorder) error {
			return runChurn(t, cfg.warmup+cfg.window, 0, rec)
		}})
	}
	return sc
}

// soakScenario opens and closes many qmux channels once, to see that
// goroutines and memory stay flat.
func soakScenario(cfg *config) *scenario {
	sc := &scenario{
		id:    "churn-soak",
		title: fmt.Sprintf("Churn soak: %d opens", cfg.soakOpens),
		about: "As the churn scenario, run once until that many channels were opened and closed.",
		cols: []metric{
			{name: mOpsPerSec, format: "%.0f"},
			{name: mGoroutines, lowerBetter: true, format: "%.0f"},
			{name: mHeapKiB, lowerBetter: true, format: "%.0f"},
		},
		once: true,
	}
	for _, t := range transportsNamed("qmux") {
		sc.impls = append(sc.impls, impl{name: t.name, kind: t.kind, run: func(rec recorder) error {
			return runChurn(t, 0, int64(cfg.soakOpens), rec)
		}})
	}
	return sc
}

// runChurn opens and closes channels for d (if not zero), or until
// maxOpens were opened (if not zero), from when the sessions are idle.
func runChurn(t transport, d time.Duration, maxOpens int64, rec recorder) error {
	cs, ss, err := t.pair(pairOptions{})
	if err != nil {
		return err
	}
	defer ss.Close()
	defer cs.Close()
	// One open and close first, so that lazily started machinery is in the
	// idle state measured.
	o, a, err := openChannels(cs, ss, 1)
	if err != nil {
		return err
	}
	o[0].Close()
	a[0].Close()
	time.Sleep(20 * time.Millisecond)
	heap0, _ := settledHeap()
	g0 := runtime.NumGoroutine()

	var accepted atomic.Int64
	acceptDone := make(chan error, 1)
	go func() {
		for {
			c, err := ss.Accept()
			if err != nil {
				acceptDone <- err
				return
			}
			c.Close()
			accepted.Add(1)
		}
	}()

	var opened atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, churnWorkers)
	t0 := time.Now()
	var deadline time.Time
	if d > 0 {
		deadline = t0.Add(d)
	}
	for range churnWorkers {
		wg.Go(func() {
			for {
				if maxOpens > 0 && opened.Add(1) > maxOpens {
					opened.Add(-1)
					return
				}
				if !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				c, err := cs.Open()
				if err != nil {
					if maxOpens > 0 {
						opened.Add(-1)
					}
					errs <- err
					return
				}
				if maxOpens == 0 {
					opened.Add(1)
				}
				c.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("open: %w", err)
	}
	want := opened.Load()
	for wait := time.Now().Add(10 * time.Second); accepted.Load() < want; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(wait) {
			return fmt.Errorf("the server accepted %d of %d channels", accepted.Load(), want)
		}
	}
	dt := time.Since(t0)
	time.Sleep(50 * time.Millisecond) // the last closes cross the wire
	heap1, _ := settledHeap()
	g1 := runtime.NumGoroutine() - 1 // the accept loop

	cs.Close()
	ss.Close()
	if err := <-acceptDone; err == nil {
		return errors.New("accept loop ended without an error")
	}
	rec(mOpsPerSec, float64(want)/dt.Seconds())
	rec(mGoroutines, float64(g1-g0))
	rec(mHeapKiB, (float64(heap1)-float64(heap0))/1024)
	return nil
}
