package main

import (
	"fmt"
	"sync"
)

// A scenario is one measurement made on several implementations.
type scenario struct {
	id    string // short, stable name
	title string
	about string   // what is measured, in a sentence or two
	cols  []metric // the figures of each run; the first is the main one
	// baseline is the figure the "÷ raw TCP" ratio divides by: the main
	// figure of an implementation, in this scenario unless baseScenario
	// names another. "" when there is none.
	baseline     string
	baseScenario string
	impls        []impl
	once         bool // run once, after the repetitions
}

// has reports whether sc measures the implementation called name.
func (sc *scenario) has(name string) bool {
	for _, im := range sc.impls {
		if im.name == name {
			return true
		}
	}
	return false
}

// A metric is one figure a run records.
type metric struct {
	name        string // also the column heading
	lowerBetter bool
	format      string // for fmt, e.g. "%.0f"
}

// An impl is one implementation measured by a scenario.
type impl struct {
	name     string
	kind     implKind
	overQUIC bool // runs over QUIC: its ratio is to bare quic-go in the same scenario
	run      func(rec recorder) error
}

// implKind tells qtalk's implementations from its peers and from the
// references (raw TCP) they are compared with.
type implKind int

const (
	peerImpl implKind = iota
	qtalkImpl
	refImpl
)

// A recorder takes the figures of one run.
type recorder func(metric string, v float64)

// allScenarios lists the scenarios in report order.
func allScenarios(cfg *config) []*scenario {
	var scs []*scenario
	scs = append(scs, bulkScenarios(cfg)...)
	scs = append(scs, pingPongScenario(cfg))
	scs = append(scs, churnScenario(cfg))
	scs = append(scs, unaryScenarios(cfg)...)
	scs = append(scs, streamScenario(cfg))
	scs = append(scs, compressScenario(cfg))
	scs = append(scs, pubsubScenarios(cfg)...)
	scs = append(scs, quicCallScenario(cfg))
	scs = append(scs, idleScenario(cfg))
	scs = append(scs, soakScenario(cfg))
	scs = append(scs, nodeScenarios(cfg)...)
	scs = append(scs, xprocScenario(cfg))
	scs = append(scs, gatewayScenarios(cfg)...)
	scs = append(scs, relayScenarios(cfg)...)
	scs = append(scs, gatewayBalanceScenario(cfg))
	scs = append(scs, gridLinkScenario(cfg))
	return scs
}

// results holds every figure recorded, by scenario, implementation and
// metric, one per repetition.
type results struct {
	mu       sync.Mutex // guards the fields below
	vals     map[string][]float64
	problems []string
}

func newResults() *results { return &results{vals: map[string][]float64{}} }

func resultKey(scenario, impl, metric string) string {
	return scenario + "\x00" + impl + "\x00" + metric
}

func (r *results) add(scenario, impl, metric string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := resultKey(scenario, impl, metric)
	r.vals[k] = append(r.vals[k], v)
}

// problem records a failed run or a leak; the report lists them.
func (r *results) problem(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// get returns the median of a figure and whether it was recorded.
func (r *results) get(scenario, impl, metric string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs, ok := r.vals[resultKey(scenario, impl, metric)]
	return median(vs), ok && len(vs) > 0
}

// ratio returns num/den for two figures: the median of the ratios of each
// repetition, which ran side by side (falling back to the ratio of the
// medians when a run failed), and the lowest and highest of those ratios.
func (r *results) ratio(num, den figure) (ratio, lo, hi float64, ok bool) {
	r.mu.Lock()
	nv := r.vals[resultKey(num.scenario, num.impl, num.metric)]
	dv := r.vals[resultKey(den.scenario, den.impl, den.metric)]
	r.mu.Unlock()
	if len(nv) == 0 || len(dv) == 0 {
		return 0, 0, 0, false
	}
	var rs []float64
	if len(nv) == len(dv) {
		for i := range nv {
			if dv[i] != 0 {
				rs = append(rs, nv[i]/dv[i])
			}
		}
	}
	if len(rs) == 0 || len(rs) != len(nv) {
		if median(dv) == 0 {
			return 0, 0, 0, false
		}
		v := median(nv) / median(dv)
		return v, v, v, true
	}
	lo, hi = rs[0], rs[0]
	for _, x := range rs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return median(rs), lo, hi, true
}

// spread returns (max-min)/median of a figure across repetitions.
func (r *results) spread(scenario, impl, metric string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := r.vals[resultKey(scenario, impl, metric)]
	if len(vs) < 2 {
		return 0
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	m := median(vs)
	if m == 0 {
		return 0
	}
	return (hi - lo) / m
}
