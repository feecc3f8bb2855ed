package main

import (
	"io"
	"time"
)

const (
	mMeanUs = "mean µs"
	mP99Us  = "p99 µs"
	mP50Us  = "p50 µs"

	pingSize = 64
)

// pingPongScenario measures the round trip of 64 bytes on an open channel.
func pingPongScenario(cfg *config) *scenario {
	sc := &scenario{
		id:    "pingpong",
		title: "64 B ping-pong on an open channel",
		about: "The client writes 64 bytes, the server reads them and writes them back, the client reads them; " +
			"one round trip at a time on one channel.",
		cols: []metric{
			{name: mMeanUs, lowerBetter: true, format: "%.1f"},
			{name: mP99Us, lowerBetter: true, format: "%.1f"},
		},
		baseline: "tcp",
	}
	for _, t := range transports {
		sc.impls = append(sc.impls, impl{name: t.name, kind: t.kind, overQUIC: t.overQUIC, run: func(rec recorder) error {
			return runPingPong(cfg, t, rec)
		}})
	}
	return sc
}

func runPingPong(cfg *config, t transport, rec recorder) error {
	cs, ss, err := t.pair(pairOptions{})
	if err != nil {
		return err
	}
	opened, accepted, err := openChannels(cs, ss, 1)
	if err != nil {
		cs.Close()
		ss.Close()
		return err
	}
	echoed := make(chan struct{})
	go func() {
		defer close(echoed)
		c := accepted[0]
		buf := make([]byte, pingSize)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	defer func() {
		cs.Close()
		ss.Close()
		<-echoed
	}()

	c := opened[0]
	buf := make([]byte, pingSize)
	roundTrip := func() (time.Duration, error) {
		t0 := time.Now()
		if _, err := c.Write(buf); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	}
	for end := time.Now().Add(cfg.warmup); time.Now().Before(end); {
		if _, err := roundTrip(); err != nil {
			return err
		}
	}
	lat := make(latencies, 0, 1<<16)
	for end := time.Now().Add(cfg.window); time.Now().Before(end); {
		d, err := roundTrip()
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	rec(mMeanUs, micros(lat.mean()))
	rec(mP99Us, micros(lat.percentile(99)))
	return nil
}
