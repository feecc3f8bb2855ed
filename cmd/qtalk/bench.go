package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

var cmdBench = &command{
	name:    "bench",
	args:    "ADDR",
	summary: "measure call throughput and latency against the server at ADDR",
	help: `
Bench calls --label on the server at ADDR from --concurrency callers for
--duration and prints a summary: calls, calls per second, latency
percentiles and the payload throughput in MB/s (the argument bytes sent
plus the reply bytes received, per second).

Each call's arguments are --args, a JSON value as qtalk call takes it
(sent in CBOR, integral numbers as integers; labels served with package
fn take an array: '["k"]' for kv:get), or else a CBOR byte string of
--size bytes, which echo:echo and check:echo return. Sizes are bytes or
take a unit: 1KiB, 4MiB, 1.5kB.

While it runs, it shows its progress on stderr: updated in place when
stderr is a terminal, a line a second otherwise. The first failed call
ends the run with that call's error and exit status (see qtalk call
--help); SIGINT ends it early, with the summary of what ran.
` + tlsAddressHelp,
	example: `  qtalk bench tcp://127.0.0.1:4242
  qtalk bench --label check:echo --duration 10s --concurrency 32 --size 4KiB ws://127.0.0.1:4243/qtalk
  qtalk bench --label kv:get --args '["greeting"]' tcp://127.0.0.1:4242`,
}

// benchOptions are the settings of a run.
type benchOptions struct {
	label       string
	duration    time.Duration
	concurrency int
	size        byteSize
	args        any // the arguments of each call: a []byte of size bytes, or those of --args
	argsSize    int // the encoded size of args
}

func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdBench)
	var o benchOptions
	f.StringVar(&o.label, "label", "echo:echo", "the `LABEL` to call")
	f.DurationVar(&o.duration, "duration", 5*time.Second, "how long to run")
	f.IntVar(&o.concurrency, "concurrency", 8, "how many calls to keep in flight")
	o.size = 64
	f.Var(&o.size, "size", "the `size` of the arguments without --args: bytes, or with a unit as in 4KiB")
	argsJSON := f.String("args", "", "the arguments of each call, a `JSON` value (default: a byte string of --size bytes)")
	tlsFiles := f.clientTLSFlags()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usageErrorf("bench: want ADDR, got %d arguments (see qtalk bench --help)", len(pos))
	case o.duration <= 0:
		return usageErrorf("bench: --duration %s: want a positive duration", o.duration)
	case o.concurrency < 1:
		return usageErrorf("bench: --concurrency %d: want at least 1", o.concurrency)
	case o.size > rpc.DefaultMaxFrameSize/2:
		return usageErrorf("bench: --size %s: want at most %s", o.size.String(), formatSize(rpc.DefaultMaxFrameSize/2))
	}
	if err := o.setArgs(f, *argsJSON); err != nil {
		return err
	}
	addr := pos[0]
	if err := checkAddress("bench", addr); err != nil {
		return err
	}
	p, err := connect(ctx, "bench", f.logger(e), addr, tlsFiles)
	if err != nil {
		return err
	}
	defer p.Close()

	r := &benchRun{opts: o, client: p.Client(), start: time.Now()}
	stopProgress := r.showProgress(e)
	err = r.run(ctx)
	stopProgress()
	if ferr := foreign(addr, err); ferr != nil {
		return ferr
	}
	if err != nil {
		return &callError{label: o.label, err: err}
	}
	return r.summary(e.stdout)
}

// setArgs sets o.args and o.argsSize: from argsJSON if given, else a byte
// string of o.size bytes.
func (o *benchOptions) setArgs(f *flagSet, argsJSON string) error {
	sizeSet := false
	f.Visit(func(fl *flag.Flag) { sizeSet = sizeSet || fl.Name == "size" })
	if argsJSON == "" {
		payload := make([]byte, o.size)
		for i := range payload {
			payload[i] = byte('a' + i%26)
		}
		o.args, o.argsSize = payload, len(payload)
		return nil
	}
	if sizeSet {
		return usageErrorf("bench: --args and --size: give one of them")
	}
	if !json.Valid([]byte(argsJSON)) {
		var v any
		err := json.Unmarshal([]byte(argsJSON), &v)
		return usageErrorf("bench: --args is not valid JSON: %v", err)
	}
	v, err := genericFromJSON(json.RawMessage(argsJSON))
	if err != nil {
		return usageErrorf("bench: --args: %v", err)
	}
	enc, err := rpc.CBOR.Append(nil, v)
	if err != nil {
		return usageErrorf("bench: --args: %v", err)
	}
	if len(enc) > rpc.DefaultMaxFrameSize/2 {
		return usageErrorf("bench: --args is %s in CBOR: want at most %s", formatSize(int64(len(enc))), formatSize(rpc.DefaultMaxFrameSize/2))
	}
	o.args, o.argsSize = v, len(enc)
	return nil
}

// A benchRun is one run of bench.
type benchRun struct {
	opts   benchOptions
	client *rpc.Client

	start      time.Time // set before the run and the progress display start
	elapsed    time.Duration
	calls      atomic.Int64
	replyBytes atomic.Int64
	latencies  []time.Duration // of every call, sorted once the run is over
}

// run keeps opts.concurrency calls in flight until the duration has
// passed or ctx is done, and returns the first error of a call that ctx
// did not end.
func (r *benchRun) run(ctx context.Context) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	end := r.start.Add(r.opts.duration)
	lats := make([][]time.Duration, r.opts.concurrency)
	var wg sync.WaitGroup
	for w := range r.opts.concurrency {
		wg.Go(func() {
			own := make([]time.Duration, 0, 1<<12)
			defer func() { lats[w] = own }()
			var reply byteCounter
			for runCtx.Err() == nil && time.Now().Before(end) {
				t0 := time.Now()
				reply = 0
				_, err := r.client.Call(runCtx, r.opts.label, r.opts.args, &reply)
				if err != nil {
					if runCtx.Err() == nil {
						cancel(err)
					}
					return
				}
				own = append(own, time.Since(t0))
				r.calls.Add(1)
				r.replyBytes.Add(int64(reply))
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(r.start)
	for _, l := range lats {
		r.latencies = append(r.latencies, l...)
	}
	slices.Sort(r.latencies)
	if err := context.Cause(runCtx); err != nil && ctx.Err() == nil {
		return err // a call failed
	}
	return nil
}

// byteCounter takes a reply without decoding it, counting its bytes.
type byteCounter int

func (c *byteCounter) UnmarshalRaw(data []byte) error {
	*c += byteCounter(len(data))
	return nil
}

// showProgress shows the progress of the run on stderr until the
// returned func is called.
func (r *benchRun) showProgress(e *env) (stop func()) {
	interval := time.Second
	if e.stderrTTY {
		interval = 200 * time.Millisecond
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-done:
				if e.stderrTTY {
					fmt.Fprint(e.stderr, "\r\x1b[K")
				}
				return
			case <-t.C:
			}
			n := r.calls.Load()
			rate := float64(n-last) / interval.Seconds()
			last = n
			elapsed := time.Since(r.start).Seconds()
			if e.stderrTTY {
				fmt.Fprintf(e.stderr, "\r%s: %5.1fs of %s  %d calls  %.0f calls/s\x1b[K", r.opts.label, elapsed, r.opts.duration, n, rate)
			} else {
				fmt.Fprintf(e.stderr, "bench %s: %.1fs of %s, %d calls, %.0f calls/s\n", r.opts.label, elapsed, r.opts.duration, n, rate)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// percentile returns the latency below which fraction q of the calls
// took, or 0 without calls.
func (r *benchRun) percentile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.latencies)-1))
	return r.latencies[i]
}

// summary prints the table of results.
func (r *benchRun) summary(w io.Writer) error {
	n := r.calls.Load()
	secs := r.elapsed.Seconds()
	mbs := float64(n*int64(r.opts.argsSize)+r.replyBytes.Load()) / secs / 1e6
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "label\tconcurrency\tsize\tduration\tcalls\tcalls/s\tp50\tp99\tmax\tMB/s")
	fmt.Fprintf(tw, "%s\t%d\t%d B\t%s\t%d\t%.0f\t%s\t%s\t%s\t%.2f\n",
		r.opts.label, r.opts.concurrency, r.opts.argsSize, r.elapsed.Round(time.Millisecond), n, float64(n)/secs,
		roundLatency(r.percentile(0.50)), roundLatency(r.percentile(0.99)), roundLatency(r.percentile(1)), mbs)
	return tw.Flush()
}

// roundLatency keeps three significant digits or so.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}
