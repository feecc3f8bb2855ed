package main

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// The main scenarios as testing benchmarks, for benchstat and profiles:
//
//	go test -bench . -benchtime 1x          # smoke test
//	go test -bench 'Unary/qtalk' -cpuprofile cpu.out
//
// The harness (go run .) is what interleaves implementations and checks
// the targets; these run one implementation at a time.

func benchName(s string) string { return strings.NewReplacer(" ", "_", "/", "-", ",", "").Replace(s) }

// channelPair returns a session pair of t and one channel opened over it.
func channelPair(b *testing.B, t transport) (client, server net.Conn) {
	b.Helper()
	cs, ss, err := t.pair(pairOptions{})
	if err != nil {
		b.Fatal(err)
	}
	opened, accepted, err := openChannels(cs, ss, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close(); ss.Close() })
	return opened[0], accepted[0]
}

func BenchmarkBulk(b *testing.B) {
	for _, t := range transports {
		b.Run(benchName(t.name), func(b *testing.B) {
			w, r := channelPair(b, t)
			done := make(chan error, 1)
			go func() {
				_, err := io.CopyN(io.Discard, r, int64(b.N)*bulkChunk)
				done <- err
			}()
			chunk := make([]byte, bulkChunk)
			b.SetBytes(bulkChunk)
			b.ResetTimer()
			for range b.N { // not b.Loop: the reader needs b.N up front
				if _, err := w.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkBulk64 spreads the writes over 64 channels written at once.
func BenchmarkBulk64(b *testing.B) {
	const n = 64
	for _, t := range transports {
		b.Run(benchName(t.name), func(b *testing.B) {
			cs, ss, err := t.pair(pairOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { cs.Close(); ss.Close() })
			opened, accepted, err := openChannels(cs, ss, n)
			if err != nil {
				b.Fatal(err)
			}
			chunk := make([]byte, bulkChunk)
			b.SetBytes(bulkChunk)
			b.ResetTimer()
			var wg sync.WaitGroup
			for i := range n {
				writes := b.N / n
				if i < b.N%n {
					writes++
				}
				wg.Go(func() {
					for range writes {
						if _, err := opened[i].Write(chunk); err != nil {
							b.Error(err)
							return
						}
					}
				})
				wg.Go(func() {
					if _, err := io.CopyN(io.Discard, accepted[i], int64(writes)*bulkChunk); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		})
	}
}

func BenchmarkPingPong(b *testing.B) {
	for _, t := range transports {
		b.Run(benchName(t.name), func(b *testing.B) {
			c, s := channelPair(b, t)
			go func() {
				buf := make([]byte, pingSize)
				for {
					if _, err := io.ReadFull(s, buf); err != nil {
						return
					}
					if _, err := s.Write(buf); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, pingSize)
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkChurn(b *testing.B) {
	for _, t := range transportsNamed(churnTransports...) {
		b.Run(benchName(t.name), func(b *testing.B) {
			cs, ss, err := t.pair(pairOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { cs.Close(); ss.Close() })
			go func() {
				for {
					c, err := ss.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, err := cs.Open()
					if err != nil {
						b.Error(err)
						return
					}
					c.Close()
				}
			})
		})
	}
}

// startRPC starts sys for a benchmark.
func startRPC(b *testing.B, sys rpcSystem) rpcClient {
	b.Helper()
	c, err := sys.start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.close() })
	return c
}

func BenchmarkUnary(b *testing.B) {
	payload := make([]byte, unarySize)
	for _, sys := range rpcSystems {
		b.Run(benchName(sys.name), func(b *testing.B) {
			c := startRPC(b, sys)
			b.ReportAllocs()
			var reply []byte
			for b.Loop() {
				if err := c.unary(payload, &reply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnary32 runs 16 goroutines per GOMAXPROCS (32 on two CPUs).
func BenchmarkUnary32(b *testing.B) {
	payload := make([]byte, unarySize)
	for _, sys := range rpcSystems {
		b.Run(benchName(sys.name), func(b *testing.B) {
			c := startRPC(b, sys)
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				var reply []byte
				for pb.Next() {
					if err := c.unary(payload, &reply); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkStream(b *testing.B) {
	for _, sys := range rpcSystemsNamed(streamSystems...) {
		b.Run(benchName(sys.name), func(b *testing.B) {
			c := startRPC(b, sys)
			b.SetBytes(streamSize)
			b.ReportAllocs()
			n := 0
			b.ResetTimer()
			err := c.stream(func(int) bool {
				n++
				return n < b.N
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
