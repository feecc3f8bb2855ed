package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/qtalkkit/qtalk/talk"
)

var cmdPing = &command{
	name:    "ping",
	args:    "ADDR",
	summary: "measure round trips to the server at ADDR, like ping(8)",
	help: `
Ping dials ADDR and calls qtalk:ping, which every qtalk peer answers by
sending its payload back, once per --interval, with a payload of --size
bytes. It prints a line per reply with its round trip (from the call to
its reply, over the connection dialed once), or the error of a ping that
failed, and when --count pings were sent, or at SIGINT, a summary: how
many were sent and answered, and the minimum, average, maximum and
standard deviation of the round trips in milliseconds.

Exit status: 0 when every ping was answered; otherwise that of qtalk call
for the last error (18 resource_exhausted for a --size over the server's
frame limit).`,
	example: `  qtalk ping tcp://127.0.0.1:4242
  qtalk ping --count 10 --interval 100ms --size 64KiB ws://127.0.0.1:4243/qtalk`,
}

func runPing(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdPing)
	size := byteSize(64)
	f.Var(&size, "size", "payload `size` of each ping: bytes, or with a unit as in 4KiB or 1MiB")
	count := f.Int("count", 0, "stop after `N` pings (0: until interrupted)")
	interval := f.Duration("interval", time.Second, "wait `D` from the start of a ping to the start of the next")
	timeout := f.Duration("timeout", 10*time.Second, "bound connecting and each ping")
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ping: want ADDR, got %d arguments (see qtalk ping --help)", len(pos))
	}
	switch {
	case size > 1<<30:
		return usageErrorf("ping: --size %s: want at most 1GiB", size.String())
	case *count < 0:
		return usageErrorf("ping: --count %d: want 0 or more", *count)
	case *interval < 0:
		return usageErrorf("ping: --interval %s: want 0 or more", *interval)
	case *timeout <= 0:
		return usageErrorf("ping: --timeout %s: want more than 0", *timeout)
	}
	addr := pos[0]
	if err := checkAddress("ping", addr); err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, *timeout)
	p, err := dial(dctx, f.logger(e), addr)
	cancel()
	if err != nil {
		return err
	}
	defer p.Close()

	fmt.Fprintf(e.stdout, "PING %s (%s): %d bytes\n", addr, talk.LabelPing, size)
	var st pingStats
	var lastErr error
	for seq := 1; *count == 0 || seq <= *count; seq++ {
		start := time.Now()
		pctx, cancel := context.WithTimeout(ctx, *timeout)
		rtt, err := p.Ping(pctx, int(size))
		cancel()
		if ctx.Err() != nil {
			break // interrupted: this ping does not count
		}
		st.sent++
		if ferr := foreign(addr, err); ferr != nil {
			return ferr
		}
		if err != nil {
			lastErr = &callError{label: talk.LabelPing, err: err, timeout: *timeout}
			fmt.Fprintf(e.stdout, "from %s: seq=%d %v\n", addr, seq, lastErr)
		} else {
			st.add(rtt)
			fmt.Fprintf(e.stdout, "%d bytes from %s: seq=%d time=%s ms\n", size, addr, seq, millis(rtt))
		}
		if *count != 0 && seq == *count {
			break
		}
		if !waitUntil(ctx, start.Add(*interval)) {
			break
		}
	}
	st.print(e, addr)
	if st.received < st.sent {
		return lastErr
	}
	return nil
}

// waitUntil waits until t, or until ctx ends, and reports whether ctx is
// still going.
func waitUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pingStats sums the round trips of the pings answered.
type pingStats struct {
	sent, received int
	min, max       time.Duration
	sum, sumSq     float64 // of the round trips in milliseconds
}

func (s *pingStats) add(rtt time.Duration) {
	if s.received == 0 || rtt < s.min {
		s.min = rtt
	}
	s.max = max(s.max, rtt)
	s.received++
	ms := float64(rtt) / float64(time.Millisecond)
	s.sum += ms
	s.sumSq += ms * ms
}

// print writes the summary of ping(8).
func (s *pingStats) print(e *env, addr string) {
	fmt.Fprintf(e.stdout, "--- %s ping statistics ---\n", addr)
	lost := 0.0
	if s.sent > 0 {
		lost = 100 * float64(s.sent-s.received) / float64(s.sent)
	}
	fmt.Fprintf(e.stdout, "%d pings sent, %d received, %.0f%% lost\n", s.sent, s.received, lost)
	if s.received == 0 {
		return
	}
	n := float64(s.received)
	avg := s.sum / n
	stddev := math.Sqrt(max(s.sumSq/n-avg*avg, 0)) // rounding may take it just below 0
	fmt.Fprintf(e.stdout, "round-trip min/avg/max/stddev = %s/%.3f/%s/%.3f ms\n", millis(s.min), avg, millis(s.max), stddev)
}

// millis formats d in milliseconds with three decimals.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}
