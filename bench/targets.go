package main

import (
	"fmt"

	"github.com/qtalkkit/qtalk/mux/qmux"
)

// A target is one of qtalk's performance goals (shared README, section 4),
// checked against a run's medians.
type target struct {
	what        string
	goal        string
	chartLabel  string  // "" to leave it off the chart
	limit       float64 // the bound value must be on the right side of
	lowerBetter bool
	eval        func(r *results) evaluation
}

type evaluation struct {
	value    float64
	measured string
	ok       bool // the figures exist
	met      bool
}

func (e evaluation) status() string {
	switch {
	case !e.ok:
		return "not measured"
	case e.met:
		return "met"
	}
	return "**missed**"
}

// figure names one median.
type figure struct{ scenario, impl, metric string }

func (f figure) get(r *results) (float64, bool) { return r.get(f.scenario, f.impl, f.metric) }

func meets(v, limit float64, lowerBetter bool) bool {
	if lowerBetter {
		return v <= limit
	}
	return v >= limit
}

// ratioTarget checks num/den against limit.
func ratioTarget(what, goal, label string, num, den figure, limit float64, lowerBetter bool) target {
	return target{what: what, goal: goal, chartLabel: label, limit: limit, lowerBetter: lowerBetter,
		eval: func(r *results) evaluation {
			n, _ := num.get(r)
			d, _ := den.get(r)
			v, lo, hi, ok := r.ratio(num, den)
			if !ok {
				return evaluation{measured: "–"}
			}
			return evaluation{value: v, ok: true, met: meets(v, limit, lowerBetter),
				measured: fmt.Sprintf("%.2fx (per repetition %.2f-%.2f; medians %s %.4g / %s %.4g %s)",
					v, lo, hi, num.impl, n, den.impl, d, num.metric)}
		}}
}

// withReference adds to what t reports the ratio of num to den, a
// reference measured in the same run with no goal of its own.
func withReference(t target, what string, num, den figure) target {
	eval := t.eval
	t.eval = func(r *results) evaluation {
		e := eval(r)
		if v, lo, hi, ok := r.ratio(num, den); ok && e.ok {
			e.measured += fmt.Sprintf("; %s %.2fx (per repetition %.2f-%.2f)", what, v, lo, hi)
		}
		return e
	}
	return t
}

// ratioFloorTarget is a ratioTarget (higher is better) whose every
// repetition must also reach floor.
func ratioFloorTarget(what, goal, label string, num, den figure, limit, floor float64) target {
	t := ratioTarget(what, goal, label, num, den, limit, false)
	median := t.eval
	t.eval = func(r *results) evaluation {
		e := median(r)
		_, lo, _, ok := r.ratio(num, den)
		e.met = e.met && ok && lo >= floor
		return e
	}
	return t
}

// valueTarget checks one figure against limit; the chart shows it divided
// by the limit.
func valueTarget(what, goal, label string, f figure, limit float64, lowerBetter bool) target {
	return target{what: what, goal: goal, chartLabel: label, limit: 1, lowerBetter: lowerBetter,
		eval: func(r *results) evaluation {
			v, ok := f.get(r)
			if !ok {
				return evaluation{measured: "–"}
			}
			return evaluation{value: v / limit, ok: true, met: meets(v, limit, lowerBetter),
				measured: fmt.Sprintf("%.4g %s (%s)", v, f.metric, f.impl)}
		}}
}

// allOf is met when every part is.
func allOf(what, goal string, parts ...target) target {
	return target{what: what, goal: goal, eval: func(r *results) evaluation {
		e := evaluation{ok: true, met: true}
		for i, p := range parts {
			pe := p.eval(r)
			e.ok = e.ok && pe.ok
			e.met = e.met && pe.met
			if i > 0 {
				e.measured += "; "
			}
			e.measured += pe.measured
		}
		return e
	}}
}

// Limits of the targets that are not ratios.
const (
	stalledChannels = 64
	// constantMiB is the "constant" of the stalled reader's memory bound.
	constantMiB = 4.0
	// soakHeapKiB is how much the heap may grow over the soak and still be
	// called flat.
	soakHeapKiB = 1024.0
)

func targets(cfg *config) []target {
	windowsMiB := float64(stalledChannels*qmux.DefaultWindowSize) / mib
	memLimit := windowsMiB + constantMiB
	ts := []target{
		ratioFloorTarget("bulk, one channel (qmux over TCP)", ">= 0.9x raw TCP, no repetition below 0.8x", "bulk 1 ch: qmux / tcp",
			figure{"bulk-1", "qmux", mMBps}, figure{"bulk-1", "tcp", mMBps}, 0.9, 0.8),
		ratioTarget("aggregate over 64 channels", ">= 0.8x raw TCP (one connection)", "bulk 64 ch: qmux / tcp",
			figure{"bulk-64", "qmux", mMBps}, figure{"bulk-1", "tcp", mMBps}, 0.8, false),
		ratioTarget("one stalled reader + 63 active channels: throughput",
			">= 0.9x of the same 64 channels all active", "stalled: actives / 64 active",
			figure{"stalled", "qmux", mMBps}, figure{"bulk-64", "qmux", mMBps}, 0.9, false),
		valueTarget("one stalled reader + 63 active channels: memory",
			fmt.Sprintf("peak live heap growth <= 64 windows (%.0f MiB) + %.0f MiB", windowsMiB, constantMiB),
			"stalled: live heap / bound", figure{"stalled", "qmux", mPeakLive}, memLimit, true),
		ratioTarget("64 B ping-pong on an open channel", "mean <= 2x raw TCP round trip", "ping mean: qmux / tcp",
			figure{"pingpong", "qmux", mMeanUs}, figure{"pingpong", "tcp", mMeanUs}, 2, true),
		ratioTarget("rpc unary 64 B, concurrency 1", ">= 2x gRPC-Go calls/s", "unary c1: qtalk / grpc",
			figure{"unary-c1", "qtalk rpc", mCallsPerSec}, figure{"unary-c1", "grpc", mCallsPerSec}, 2, false),
		ratioTarget("rpc unary 64 B, concurrency 1: latency", "p50 <= 2x raw TCP round trip", "unary c1 p50: qtalk / tcp",
			figure{"unary-c1", "qtalk rpc", mP50Us}, figure{"unary-c1", tcpRoundTrip.name, mP50Us}, 2, true),
		ratioTarget("rpc unary 64 B, concurrency 1, against drpc", ">= 1x drpc calls/s", "unary c1: qtalk / drpc",
			figure{"unary-c1", "qtalk rpc", mCallsPerSec}, figure{"unary-c1", "drpc", mCallsPerSec}, 1, false),
		ratioTarget("rpc unary 64 B, concurrency 32", ">= 1.5x gRPC-Go calls/s", "unary c32: qtalk / grpc",
			figure{"unary-c32", "qtalk rpc", mCallsPerSec}, figure{"unary-c32", "grpc", mCallsPerSec}, 1.5, false),
		ratioTarget("rpc unary 64 B, concurrency 32, against net/rpc", ">= 1.3x net/rpc calls/s", "unary c32: qtalk / net-rpc",
			figure{"unary-c32", "qtalk rpc", mCallsPerSec}, figure{"unary-c32", "net/rpc", mCallsPerSec}, 1.3, false),
		ratioTarget("rpc unary 64 B, concurrency 32: tail latency", "p99 <= net/rpc's", "unary c32 p99: qtalk / net-rpc",
			figure{"unary-c32", "qtalk rpc", mP99Us}, figure{"unary-c32", "net/rpc", mP99Us}, 1, true),
		ratioTarget("rpc unary 64 B, concurrency 32, against drpc", ">= 1x drpc calls/s", "unary c32: qtalk / drpc",
			figure{"unary-c32", "qtalk rpc", mCallsPerSec}, figure{"unary-c32", "drpc", mCallsPerSec}, 1, false),
		valueTarget("rpc allocations per unary call (client + server)", "<= 8 (concurrency 1)",
			"allocs per call / 8", figure{"unary-c1", "qtalk rpc", mAllocs}, 8, true),
		ratioTarget("server-streaming rpc, 64 KiB messages", ">= 0.6x raw TCP", "stream: qtalk / tcp",
			figure{"stream", "qtalk rpc", mMBps}, figure{"stream", "tcp", mMBps}, 0.6, false),
		ratioTarget("channel open/close churn", ">= 2x yamux opens/s", "churn: qmux / yamux",
			figure{"churn", "qmux", mOpsPerSec}, figure{"churn", "yamux", mOpsPerSec}, 2, false),
		allOf(fmt.Sprintf("flat goroutines and memory after %d opens", cfg.soakOpens),
			fmt.Sprintf("goroutines after-before <= 0; heap after-before <= %.0f KiB", soakHeapKiB),
			valueTarget("", "", "", figure{"churn-soak", "qmux", mGoroutines}, 0, true),
			valueTarget("", "", "", figure{"churn-soak", "qmux", mHeapKiB}, soakHeapKiB, true)),
		ratioTarget("mux/quic vs raw quic-go streams: bulk, one channel", ">= 0.9x", "quic bulk: mux/quic / quic-go",
			figure{"bulk-1", "mux/quic", mMBps}, figure{"bulk-1", quicRef, mMBps}, 0.9, false),
		ratioTarget("mux/quic vs raw quic-go streams: unary (a stream per call, concurrency 1)", ">= 0.9x",
			"quic call: mux/quic / quic-go",
			figure{"quic-call", "mux/quic", mCallsPerSec}, figure{"quic-call", quicRef, mCallsPerSec}, 0.9, false),
		ratioTarget("the same with mux/quic's Config.EarlyOpen (Open does not wait for the peer's answer)", ">= 0.9x",
			"quic call: mux/quic, early open / quic-go",
			figure{"quic-call", muxQUICEarly.name, mCallsPerSec}, figure{"quic-call", quicRef, mCallsPerSec}, 0.9, false),
		valueTarget("idle channel memory", "<= 2 KiB per open idle channel (one end)", "idle bytes per end / 2 KiB",
			figure{"idle", "qmux", mBytesPerEnd}, 2048, true),
	}
	ts = append(ts,
		ratioTarget("pub/sub fan-out, one publisher to 100 subscribers", ">= 0.5x NATS messages/s",
			"pubsub 100: qtalk / nats",
			figure{"pubsub-100", pubsubQtalk, mMsgsPerSec}, figure{"pubsub-100", pubsubNATS, mMsgsPerSec}, 0.5, false))
	ts = append(ts,
		ratioTarget("across processes: qtalk bench against qtalk serve, concurrency 1", "p50 <= 2x a TCP round trip between two processes",
			"xproc c1 p50: qtalk / tcp",
			figure{"xproc-c1", xprocQtalkBench, mP50Us}, figure{"xproc-c1", xprocTCP, mP50Us}, 2, true))
	for _, conc := range []int{1, 32} {
		id, relay := fmt.Sprintf("gateway-c%d", conc), fmt.Sprintf("tcp-relay-c%d", conc)
		ts = append(ts, withReference(ratioTarget(fmt.Sprintf("through a gateway (three processes), concurrency %d", conc),
			">= 0.5x the calls/s of calling the upstream directly", fmt.Sprintf("gateway c%d: through / direct", conc),
			figure{id, gatewayThrough, mCallsPerSec}, figure{id, gatewayDirect, mCallsPerSec}, 0.5, false),
			"a bare TCP relay, for reference", figure{relay, relayThrough, mCallsPerSec}, figure{relay, relayDirect, mCallsPerSec}))
	}
	ts = append(ts, gatewayBalanceTargets()...)
	ts = append(ts, gridTargets()...)
	return append(ts, nodeTargets()...)
}
