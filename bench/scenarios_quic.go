package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// quicCallScenario compares mux/quic with bare quic-go streams used as
// QUIC applications use them: a stream per call.
func quicCallScenario(cfg *config) *scenario {
	sc := &scenario{
		id:    "quic-call",
		title: "QUIC: one stream per call, 64 B, concurrency 1",
		about: "The client opens a channel, writes 64 bytes and half-closes; the server reads them, writes " +
			"them back and closes; the client reads them and closes. One call at a time. mux/quic's open " +
			"waits for the peer's answer, unless its Config.EarlyOpen is set; a bare quic-go stream's does not.",
		cols: callCols(),
	}
	for _, t := range append(transportsNamed(quicRef, "mux/quic"), muxQUICEarly) {
		sc.impls = append(sc.impls, impl{name: t.name, kind: t.kind, overQUIC: t.overQUIC, run: func(rec recorder) error {
			return runStreamCalls(cfg, t, rec)
		}})
	}
	return sc
}

// runStreamCalls makes calls of one channel each, one at a time.
func runStreamCalls(cfg *config, t transport, rec recorder) error {
	cs, ss, err := t.pair(pairOptions{})
	if err != nil {
		return err
	}
	var served sync.WaitGroup
	served.Go(func() {
		for {
			c, err := ss.Accept()
			if err != nil {
				return
			}
			served.Go(func() {
				defer c.Close()
				var req [unarySize]byte
				if _, err := io.ReadFull(c, req[:]); err != nil {
					return
				}
				c.Write(req[:])
			})
		}
	})
	defer func() {
		cs.Close()
		ss.Close()
		served.Wait()
	}()

	req, resp := make([]byte, unarySize), make([]byte, unarySize)
	var phase atomic.Int32
	go func() {
		time.Sleep(cfg.warmup)
		phase.Store(phaseMeasure)
	}()
	lat := make(latencies, 0, 1<<14)
	var t0 time.Time
	for {
		p := phase.Load()
		if p == phaseMeasure && t0.IsZero() {
			t0 = time.Now()
		}
		if !t0.IsZero() && time.Since(t0) >= cfg.window {
			break
		}
		start := time.Now()
		if err := streamCall(cs, req, resp); err != nil {
			return err
		}
		if p == phaseMeasure {
			lat = append(lat, time.Since(start))
		}
	}
	dt := time.Since(t0)
	if len(lat) == 0 {
		return fmt.Errorf("no call completed")
	}
	rec(mCallsPerSec, float64(len(lat))/dt.Seconds())
	rec(mP50Us, micros(lat.percentile(50)))
	rec(mP99Us, micros(lat.percentile(99)))
	return nil
}

// halfCloser is a channel that can end its writes alone.
type halfCloser interface{ CloseWrite() error }

// streamCall makes one call on a channel of its own.
func streamCall(s session, req, resp []byte) error {
	c, err := s.Open()
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		return err
	}
	if hc, ok := c.(halfCloser); ok {
		// The server may already have stopped reading, having the whole
		// request; a half-close that finds the stream cancelled is fine.
		hc.CloseWrite()
	}
	_, err = io.ReadFull(c, resp)
	return err
}
