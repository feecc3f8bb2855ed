package main

import (
	"errors"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// latencies summarises round-trip times.
type latencies []time.Duration

func (l latencies) mean() time.Duration {
	if len(l) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return sum / time.Duration(len(l))
}

// percentile returns the p-th percentile (0 < p <= 100), sorting l.
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	i := int(float64(len(l))*p/100+0.5) - 1
	return l[min(max(i, 0), len(l)-1)]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// settledHeap collects garbage and returns the live heap and the goroutine
// stacks in use, in bytes.
func settledHeap() (heap, stacks uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// mallocs returns the number of heap allocations so far.
func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// settleGoroutines waits up to d for the goroutine count to fall to at most
// n, and returns the count it reached.
func settleGoroutines(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		g := runtime.NumGoroutine()
		if g <= n || time.Now().After(deadline) {
			return g
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A heapSampler records the peak heap while a scenario runs: HeapAlloc
// from runtime.ReadMemStats (which counts garbage not yet collected) and
// the live heap as of the last collection (runtime/metrics).
type heapSampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	peakHeap atomic.Uint64
	peakLive atomic.Uint64
}

const liveHeapMetric = "/gc/heap/live:bytes"

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	h.done.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		sample := []metrics.Sample{{Name: liveHeapMetric}}
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			metrics.Read(sample)
			if m.HeapAlloc > h.peakHeap.Load() {
				h.peakHeap.Store(m.HeapAlloc)
			}
			if sample[0].Value.Kind() == metrics.KindUint64 {
				if v := sample[0].Value.Uint64(); v > h.peakLive.Load() {
					h.peakLive.Store(v)
				}
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	})
	return h
}

// finish stops the sampler and returns the peaks.
func (h *heapSampler) finish() (heap, live uint64) {
	close(h.stop)
	h.done.Wait()
	return h.peakHeap.Load(), h.peakLive.Load()
}

// liveHeap returns the live heap as of the last collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: liveHeapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// minWindowCalls is how many calls a measurement of unary callers counts
// at least: its window lasts the configured window and, on a machine too
// loaded to complete that many in it (-short's 40 ms), until they did. At
// the full window's rates it never extends it. The Node bench client
// (js/src/bench/client.ts) counts the same.
const minWindowCalls = 10

// A callWindow is the measurement window of unary callers.
type callWindow struct {
	counted atomic.Int64
	enough  chan struct{} // closed once minWindowCalls calls were counted
}

func newCallWindow() *callWindow { return &callWindow{enough: make(chan struct{})} }

// count counts a call measured in the window.
func (w *callWindow) count() {
	if w.counted.Add(1) == minWindowCalls {
		close(w.enough)
	}
}

// wait waits for d, then until minWindowCalls calls were counted or
// callersDone is closed (the callers ended: one failed).
func (w *callWindow) wait(d time.Duration, callersDone <-chan struct{}) {
	time.Sleep(d)
	select {
	case <-w.enough:
	case <-callersDone:
	}
}

// Phases of a timed run, seen by its callers.
const (
	phaseWarmup = iota
	phaseMeasure
	phaseStop
)

// timeCalls runs conc callers, each calling call(i) in a loop through the
// warmup and then the window, records calls/s, p50 and p99 of the calls
// made in the window, and returns how many there were. It calls mark, if
// not nil, as the window begins and once it ended.
func timeCalls(cfg *config, conc int, call func(i int) error, mark func(), rec recorder) (int, error) {
	var phase atomic.Int32
	var wg sync.WaitGroup
	lats := make([]latencies, conc)
	errs := make([]error, conc)
	window := newCallWindow()
	for i := range conc {
		wg.Go(func() {
			lat := make(latencies, 0, 1<<14)
			defer func() { lats[i] = lat }()
			for {
				p := phase.Load()
				if p == phaseStop {
					return
				}
				t0 := time.Now()
				if err := call(i); err != nil {
					errs[i] = err
					return
				}
				if p == phaseMeasure {
					lat = append(lat, time.Since(t0))
					window.count()
				}
			}
		})
	}
	callersDone := make(chan struct{})
	go func() { wg.Wait(); close(callersDone) }()
	time.Sleep(cfg.warmup)
	if mark != nil {
		mark()
	}
	t0 := time.Now()
	phase.Store(phaseMeasure)
	window.wait(cfg.window, callersDone)
	phase.Store(phaseStop)
	dt := time.Since(t0)
	if mark != nil {
		mark()
	}
	<-callersDone
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return 0, errors.New("no call completed")
	}
	rec(mCallsPerSec, float64(len(all))/dt.Seconds())
	rec(mP50Us, micros(all.percentile(50)))
	rec(mP99Us, micros(all.percentile(99)))
	return len(all), nil
}
