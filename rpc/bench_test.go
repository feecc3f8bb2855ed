package rpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

var tcp = transportCase{"tcp", tcpPair}

func echoBytes(r rpc.Responder, c *rpc.Call) {
	var b []byte
	if err := c.Receive(&b); err != nil {
		r.Error(err)
		return
	}
	r.Return(b)
}

// BenchmarkUnaryTCP makes 64-byte unary calls over loopback TCP from 1 and
// 32 goroutines. allocs/op counts both the client and the server; p50-µs
// and p99-µs are the calls' latencies.
func BenchmarkUnaryTCP(b *testing.B) {
	for _, conc := range []int{1, 32} {
		b.Run("conc="+strconv.Itoa(conc), func(b *testing.B) {
			h := startFunc(b, tcp, echoBytes)
			payload := make([]byte, 64)
			ctx := context.Background()
			lats := make([][]time.Duration, conc)
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for i := range conc {
				lats[i] = make([]time.Duration, 0, b.N/conc+1)
				wg.Go(func() {
					var reply []byte
					for next.Add(1) <= int64(b.N) {
						t0 := time.Now()
						if _, err := h.client.Call(ctx, "echo", payload, &reply); err != nil {
							b.Error(err)
							return
						}
						lats[i] = append(lats[i], time.Since(t0))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			all := slices.Concat(lats...)
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)*50/100].Microseconds()), "p50-µs")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

const streamMessage = 64 << 10

// BenchmarkServerStream streams 64 KiB messages from a handler over
// loopback TCP; BenchmarkRawTCP moves the same bytes over a bare TCP
// connection, for comparison.
func BenchmarkServerStream(b *testing.B) {
	msg := make([]byte, streamMessage)
	h := startFunc(b, tcp, func(r rpc.Responder, c *rpc.Call) {
		var n int
		c.Receive(&n)
		if r.Continue(nil) != nil {
			return
		}
		for range n {
			if r.Send(msg) != nil {
				return
			}
		}
	})
	b.SetBytes(streamMessage)
	b.ReportAllocs()
	b.ResetTimer()
	resp, err := h.client.Call(context.Background(), "stream", b.N, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Close()
	var got []byte
	for {
		err := resp.Receive(&got)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	msg := make([]byte, streamMessage)
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		for range b.N {
			if _, err := conn.Write(msg); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.SetBytes(streamMessage)
	b.ResetTimer()
	buf := make([]byte, streamMessage)
	if _, err := io.CopyBuffer(io.Discard, conn, buf); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
