package main

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Metric names shared by the scenarios and the report.
const (
	mMBps     = "MB/s"
	mFairness = "slowest/fastest"
	mPeakHeap = "peak heap growth MiB"
	mPeakLive = "peak live heap growth MiB"
)

const (
	bulkChunk = 64 << 10 // each Write of a bulk writer
	readBuf   = 32 << 10 // each Read of a bulk reader
	mib       = 1 << 20

	// tcpPerChannel names raw TCP with one connection per channel.
	tcpPerChannel = "tcp, conn per channel"
)

// bulkScenarios measure one-way throughput from the client to the server
// over 1, 64 and many channels, and with one of 64 readers stalled.
func bulkScenarios(cfg *config) []*scenario {
	bulk := func(id, title, about string, n int, stalled bool, cols []metric) *scenario {
		sc := &scenario{id: id, title: title, about: about, cols: cols, baseline: "tcp"}
		if n > 1 {
			sc.baseScenario = "bulk-1"
		}
		for _, t := range transports {
			name := t.name
			if t.name == "tcp" && n > 1 {
				name = tcpPerChannel
			}
			sc.impls = append(sc.impls, impl{name: name, kind: t.kind, overQUIC: t.overQUIC, run: func(rec recorder) error {
				return runBulk(cfg, t, n, stalled, rec)
			}})
		}
		return sc
	}
	rate := metric{name: mMBps, format: "%.0f"}
	multi := []metric{rate, {name: mFairness, format: "%.2f"},
		{name: mPeakHeap, lowerBetter: true, format: "%.1f"},
		{name: mPeakLive, lowerBetter: true, format: "%.1f"}}
	return []*scenario{
		bulk("bulk-1", "Bulk, one channel",
			"One writer sends 64 KiB writes on one channel; MB/s as read by the other end.",
			1, false, []metric{rate}),
		bulk("bulk-64", "Bulk, 64 channels",
			"64 channels, one writer and one reader each, all at once; aggregate MB/s, compared with "+
				"raw TCP over one connection (the bulk, one channel figure), as the peer figures of the shared README are. "+
				"The row of raw TCP with one connection per channel is for reference. Fairness is the bytes of the slowest channel over the fastest's. "+
				"Heap growth is over the idle state with every channel open, sampled every 10 ms: "+
				"HeapAlloc from ReadMemStats (counts uncollected garbage) and the live heap as of the last GC.",
			64, false, multi),
		bulk("bulk-many", fmt.Sprintf("Bulk, %d channels", cfg.manyChannels),
			fmt.Sprintf("As with 64 channels, over %d.", cfg.manyChannels),
			cfg.manyChannels, false, multi),
		bulk("stalled", "One stalled reader beside 63 active channels",
			"As with 64 channels, but the reader of one channel never reads: its writer blocks once the window is full. "+
				"MB/s is the aggregate of the 63 active channels.",
			64, true, multi),
	}
}

// runBulk runs n writer/reader pairs over t, with the first reader
// stalled if asked, and records the aggregate rate of the active ones.
func runBulk(cfg *config, t transport, n int, stalled bool, rec recorder) error {
	cs, ss, err := t.pair(pairOptions{maxChannels: n})
	if err != nil {
		return err
	}
	closeAll := func() { cs.Close(); ss.Close() }
	opened, accepted, err := openChannels(cs, ss, n)
	if err != nil {
		closeAll()
		return err
	}
	chunk := make([]byte, bulkChunk) // only read by the writers: shared
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, readBuf)
	}
	counts := make([]atomic.Int64, n)
	var heap0 uint64
	if n > 1 {
		heap0, _ = settledHeap()
	}

	// Teardown is graceful: writers stop and close their channels, readers
	// drain to EOF, and only then do the sessions close. (Closing a yamux
	// session under hundreds of blocked readers makes them spin.)
	var stop atomic.Bool
	var active, stalledWriter sync.WaitGroup
	for i := range n {
		w := opened[i]
		wg := &active
		if stalled && i == 0 {
			wg = &stalledWriter
		}
		wg.Go(func() {
			defer w.Close()
			for !stop.Load() {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})
		if stalled && i == 0 {
			continue
		}
		r, buf := accepted[i], bufs[i]
		active.Go(func() { countReads(r, buf, &counts[i]) })
	}
	var sampler *heapSampler
	if n > 1 {
		sampler = startHeapSampler(10 * time.Millisecond)
	}
	deltas, dt := measureCounts(cfg, counts)
	stop.Store(true)
	var peakHeap, peakLive uint64
	if sampler != nil {
		peakHeap, peakLive = sampler.finish()
	}
	drained := waitTimeout(&active, 10*time.Second)
	closeAll()
	active.Wait()
	stalledWriter.Wait()
	if !drained {
		return fmt.Errorf("channels did not drain within 10s of the writers stopping")
	}

	first := 0
	if stalled {
		first = 1
	}
	var sum int64
	lo, hi := deltas[first], deltas[first]
	for _, d := range deltas[first:] {
		sum += d
		lo, hi = min(lo, d), max(hi, d)
	}
	rec(mMBps, float64(sum)/dt.Seconds()/1e6)
	if n > 1 {
		if hi > 0 {
			rec(mFairness, float64(lo)/float64(hi))
		}
		rec(mPeakHeap, growthMiB(peakHeap, heap0))
		rec(mPeakLive, growthMiB(peakLive, heap0))
	}
	return nil
}

// countReads reads r until it fails, adding what it read to count.
func countReads(r net.Conn, buf []byte, count *atomic.Int64) {
	for {
		k, err := r.Read(buf)
		count.Add(int64(k))
		if err != nil {
			return
		}
	}
}

// measureCounts waits for the warmup, then returns how much each counter
// grew during the measurement window, and how long the window was.
func measureCounts(cfg *config, counts []atomic.Int64) ([]int64, time.Duration) {
	time.Sleep(cfg.warmup)
	start := make([]int64, len(counts))
	for i := range counts {
		start[i] = counts[i].Load()
	}
	t0 := time.Now()
	time.Sleep(cfg.window)
	dt := time.Since(t0)
	deltas := make([]int64, len(counts))
	for i := range counts {
		deltas[i] = counts[i].Load() - start[i]
	}
	return deltas, dt
}

// waitTimeout waits for wg, for up to d, and reports whether it ended.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func growthMiB(peak, base uint64) float64 {
	if peak < base {
		return 0
	}
	return float64(peak-base) / mib
}
