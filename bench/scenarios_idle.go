package main

import (
	"fmt"
	"runtime"
)

const (
	mBytesPerEnd     = "bytes/channel end"
	mBytesPerChannel = "bytes/channel (both ends)"
	mGoroutinesPer   = "goroutines/channel"
)

// idleScenario measures the memory an open, idle channel costs.
func idleScenario(cfg *config) *scenario {
	sc := &scenario{
		id:    "idle",
		title: fmt.Sprintf("Idle memory per open channel (%d channels)", cfg.idleChannels),
		about: "Heap (after GC) plus goroutine stacks, with every channel open and idle, over the sessions " +
			"with none. Both ends live in this process: a channel end is what one side of a session pays. " +
			"Includes 16 bytes per end of the harness's own slices.",
		cols: []metric{
			{name: mBytesPerEnd, lowerBetter: true, format: "%.0f"},
			{name: mBytesPerChannel, lowerBetter: true, format: "%.0f"},
			{name: mGoroutinesPer, lowerBetter: true, format: "%.2f"},
		},
	}
	for _, t := range transportsNamed(churnTransports...) {
		sc.impls = append(sc.impls, impl{name: t.name, kind: t.kind, overQUIC: t.overQUIC, run: func(rec recorder) error {
			return runIdle(t, cfg.idleChannels, rec)
		}})
	}
	return sc
}

func runIdle(t transport, n int, rec recorder) error {
	cs, ss, err := t.pair(pairOptions{maxChannels: n + 16})
	if err != nil {
		return err
	}
	defer ss.Close()
	defer cs.Close()
	heap0, stack0 := settledHeap()
	g0 := runtime.NumGoroutine()
	opened, accepted, err := openChannels(cs, ss, n)
	if err != nil {
		return err
	}
	heap1, stack1 := settledHeap()
	g1 := runtime.NumGoroutine()
	total := float64(heap1+stack1) - float64(heap0+stack0)
	rec(mBytesPerChannel, total/float64(n))
	rec(mBytesPerEnd, total/float64(2*n))
	rec(mGoroutinesPer, float64(g1-g0)/float64(n))
	runtime.KeepAlive(opened)
	runtime.KeepAlive(accepted)
	return nil
}
