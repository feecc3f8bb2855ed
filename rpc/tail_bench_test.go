package rpc_test

import (
	"context"
	"net"
	netrpc "net/rpc"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tailWindow is how long each system runs in turn in
// BenchmarkUnaryTailAgainstNetRPC: short, so that both meet the same load
// on a shared machine.
const tailWindow = 100 * time.Millisecond

// BenchmarkUnaryTailAgainstNetRPC runs 64-byte unary calls from 32
// goroutines over qtalk rpc and over Go's net/rpc (gob, one TCP
// connection), each for tailWindow in turn, b.N times each, and reports
// the latencies of both and their ratios: the c32 tail target of the bench
// report (#14) as a paired measurement, steadier on a loaded machine than
// runs a second apart.
func BenchmarkUnaryTailAgainstNetRPC(b *testing.B) {
	h := startFunc(b, tcp, echoBytes)
	ctx := context.Background()
	qtalk := func(p []byte, reply *[]byte) error {
		_, err := h.client.Call(ctx, "echo", p, reply)
		return err
	}
	netRPC := startNetRPCEcho(b)
	var q, n []time.Duration
	runConcurrent(b, qtalk, 32, tailWindow/2) // warm up
	runConcurrent(b, netRPC, 32, tailWindow/2)
	b.ResetTimer()
	for range b.N {
		q = append(q, runConcurrent(b, qtalk, 32, tailWindow)...)
		n = append(n, runConcurrent(b, netRPC, 32, tailWindow)...)
	}
	b.StopTimer()
	if len(q) == 0 || len(n) == 0 {
		b.Fatal("no call completed")
	}
	slices.Sort(q)
	slices.Sort(n)
	p99 := func(l []time.Duration) float64 { return float64(l[len(l)*99/100].Microseconds()) }
	p50 := func(l []time.Duration) float64 { return float64(l[len(l)/2].Microseconds()) }
	b.ReportMetric(p50(q), "p50-µs")
	b.ReportMetric(p99(q), "p99-µs")
	b.ReportMetric(p99(n), "netrpc-p99-µs")
	b.ReportMetric(p99(q)/p99(n), "p99/netrpc")
	b.ReportMetric(float64(len(q))/float64(len(n)), "calls/netrpc")
}

// runConcurrent calls call from conc goroutines for d, and returns the
// latencies of the calls that began and ended within d.
func runConcurrent(b *testing.B, call func(p []byte, reply *[]byte) error, conc int, d time.Duration) []time.Duration {
	payload := make([]byte, 64)
	var stop atomic.Bool
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			var reply []byte
			var lats []time.Duration
			for !stop.Load() {
				t0 := time.Now()
				if err := call(payload, &reply); err != nil {
					b.Error(err)
					break
				}
				if !stop.Load() {
					lats = append(lats, time.Since(t0))
				}
			}
			mu.Lock()
			all = append(all, lats...)
			mu.Unlock()
		})
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return all
}

// NetRPCEcho is the net/rpc service of BenchmarkUnaryTailAgainstNetRPC.
type NetRPCEcho struct{}

// Echo replies with its argument.
func (NetRPCEcho) Echo(args []byte, reply *[]byte) error {
	*reply = args
	return nil
}

// startNetRPCEcho serves NetRPCEcho on loopback TCP and returns a call
// over one client connection, as net/rpc's clients share one.
func startNetRPCEcho(b *testing.B) func(p []byte, reply *[]byte) error {
	srv := netrpc.NewServer()
	if err := srv.Register(NetRPCEcho{}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var served sync.WaitGroup
	served.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		srv.ServeConn(c) // returns once the client's connection closes
	})
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		b.Fatal(err)
	}
	cl := netrpc.NewClient(conn)
	b.Cleanup(func() {
		cl.Close()
		ln.Close()
		served.Wait()
	})
	return func(p []byte, reply *[]byte) error { return cl.Call("NetRPCEcho.Echo", p, reply) }
}
