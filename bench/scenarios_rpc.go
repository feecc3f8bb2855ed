package main

import (
	"fmt"
	"sync/atomic"
)

const (
	mCallsPerSec = "calls/s"
	mAllocs      = "allocs/call"
)

// callCols are the figures of timed callers (timeCalls), calls/s the main
// one, followed by extra.
func callCols(extra ...metric) []metric {
	return append([]metric{
		{name: mCallsPerSec, format: "%.0f"},
		{name: mP50Us, lowerBetter: true, format: "%.1f"},
		{name: mP99Us, lowerBetter: true, format: "%.1f"},
	}, extra...)
}

// unaryScenarios measure 64-byte unary calls at concurrency 1 and 32.
func unaryScenarios(cfg *config) []*scenario {
	var scs []*scenario
	for _, conc := range []int{1, 32} {
		ref := ""
		if conc == 1 {
			ref = "The tcp round trip row is the reference of the least a call can take: 64 bytes written on a " +
				"loopback TCP connection and echoed back by the other end. "
		}
		sc := &scenario{
			id:    fmt.Sprintf("unary-c%d", conc),
			title: fmt.Sprintf("RPC unary, 64 B, concurrency %d", conc),
			about: fmt.Sprintf("%d goroutine(s) call an echo method with 64 bytes over one client connection, in a loop. "+
				"Allocations are runtime.MemStats.Mallocs over the window per call, client and server together "+
				"(one process). qtalk rpc runs over qmux on TCP with its default codec (CBOR); gRPC-Go over "+
				"HTTP/2 on TCP without TLS, with a pass-through []byte codec; net/rpc with gob; storj.io/drpc with a "+
				"hand-written description and a pass-through encoding, over a TCP connection per concurrent caller "+
				"(a drpc connection carries one call at a time; its callers pool connections). "+
				"%sThe raw-codec qtalk row, for reference, gives qtalk rpc a pass-through codec too; the last row runs "+
				"qtalk rpc (CBOR) over mux/quic on loopback UDP.", conc, ref),
			cols: callCols(metric{name: mAllocs, lowerBetter: true, format: "%.2f"}),
		}
		systems := rpcSystems
		if conc == 1 {
			systems = append([]rpcSystem{tcpRoundTrip}, systems...)
		}
		for _, sys := range systems {
			sc.impls = append(sc.impls, impl{name: sys.name, kind: sys.kind, overQUIC: sys.overQUIC, run: func(rec recorder) error {
				return runUnary(cfg, sys, conc, rec)
			}})
		}
		scs = append(scs, sc)
	}
	return scs
}

func runUnary(cfg *config, sys rpcSystem, conc int, rec recorder) error {
	c, err := sys.start()
	if err != nil {
		return err
	}
	defer c.close()
	payload := make([]byte, unarySize)
	replies := make([][]byte, conc)
	var marks []uint64 // the allocations as the window begins and once it ended
	n, err := timeCalls(cfg, conc, func(i int) error { return c.unary(payload, &replies[i]) },
		func() { marks = append(marks, mallocs()) }, rec)
	if err != nil {
		return err
	}
	rec(mAllocs, float64(marks[1]-marks[0])/float64(n))
	return nil
}

// streamSystems are the rpc systems with server streams: all but net/rpc.
var streamSystems = []string{"qtalk rpc", "grpc", "drpc", "qtalk rpc, raw codec", "qtalk rpc over mux/quic"}

// streamScenario measures a server stream of 64 KiB messages, against
// raw TCP and a bare qmux channel carrying 64 KiB writes.
func streamScenario(cfg *config) *scenario {
	sc := &scenario{
		id:    "stream",
		title: "Server-streaming RPC, 64 KiB messages",
		about: "The server sends 64 KiB messages as fast as the client takes them. The tcp, qmux, quic-go and mux/quic " +
			"rows are the bulk one-channel runs (64 KiB writes), for reference, as is qtalk rpc with a pass-through codec " +
			"(gRPC's and drpc's codecs here are too). The client decodes each message into the same []byte variable.",
		cols:     []metric{{name: mMBps, format: "%.0f"}},
		baseline: "tcp",
	}
	for _, t := range transportsNamed("tcp", "qmux", quicRef, "mux/quic") {
		name := t.name
		if t.kind == qtalkImpl {
			name += " channel"
		}
		sc.impls = append(sc.impls, impl{name: name, kind: refImpl, overQUIC: t.overQUIC, run: func(rec recorder) error {
			return runBulk(cfg, t, 1, false, rec)
		}})
	}
	for _, sys := range rpcSystemsNamed(streamSystems...) {
		sc.impls = append(sc.impls, impl{name: sys.name, kind: sys.kind, overQUIC: sys.overQUIC, run: func(rec recorder) error {
			return runStream(cfg, sys, rec)
		}})
	}
	return sc
}

func runStream(cfg *config, sys rpcSystem, rec recorder) error {
	c, err := sys.start()
	if err != nil {
		return err
	}
	defer c.close()
	counts := make([]atomic.Int64, 1)
	var stop atomic.Bool
	errc := make(chan error, 1)
	go func() {
		errc <- c.stream(func(n int) bool {
			counts[0].Add(int64(n))
			return !stop.Load()
		})
	}()
	deltas, dt := measureCounts(cfg, counts)
	stop.Store(true)
	if err := <-errc; err != nil {
		return err
	}
	rec(mMBps, float64(deltas[0])/dt.Seconds()/1e6)
	return nil
}
