//go:build unix

package quic_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/quic"
)

// The benchmarks run each scenario through mux/quic ("mux"), through
// mux/quic with Config.EarlyOpen ("early") and through bare quic-go
// streams ("raw") over loopback UDP, with the same QUIC settings, so the
// ratio to raw is the cost of this package.

const (
	bulkChunk = 64 << 10 // bytes per Write in the bulk benchmarks
	callSize  = 64       // bytes of a request and of a response
)

// rawQUICConfig is the quic-go configuration mux/quic uses by default.
func rawQUICConfig() *quicgo.Config {
	return &quicgo.Config{
		KeepAlivePeriod:       quic.DefaultKeepAlivePeriod,
		MaxIdleTimeout:        quic.DefaultKeepAlivePeriod + quic.DefaultKeepAliveTimeout,
		MaxIncomingStreams:    quic.DefaultMaxIncomingStreams,
		MaxIncomingUniStreams: -1,
	}
}

// A conn is what a benchmark needs of either kind of connection: opening
// and accepting streams as net.Conns with a half-close.
type conn interface {
	open(ctx context.Context) (stream, error)
	accept(ctx context.Context) (stream, error)
}

type stream interface {
	io.ReadWriter
	CloseWrite() error
	Close() error
}

// muxConn adapts a mux.Session.
type muxConn struct{ s mux.Session }

func (c muxConn) open(ctx context.Context) (stream, error)   { return c.s.Open(ctx) }
func (c muxConn) accept(ctx context.Context) (stream, error) { return c.s.Accept(ctx) }

// rawConn adapts a quic-go connection. Close of a raw stream is what
// mux/quic's Close does: FIN and STOP_SENDING.
type rawConn struct{ c *quicgo.Conn }

type rawStream struct{ *quicgo.Stream }

// CloseWrite ignores the error of a stream the peer already stopped
// reading, as mux/quic's CloseWrite does.
func (s rawStream) CloseWrite() error {
	s.Stream.Close()
	return nil
}
func (s rawStream) Close() error {
	s.CancelRead(0)
	return s.Stream.Close()
}

func (c rawConn) open(ctx context.Context) (stream, error) {
	s, err := c.c.OpenStreamSync(ctx)
	return rawStream{s}, err
}

func (c rawConn) accept(ctx context.Context) (stream, error) {
	s, err := c.c.AcceptStream(ctx)
	return rawStream{s}, err
}

// muxPair returns a mux/quic session pair as conns.
func muxPair(b *testing.B) (client, server conn, stop func()) {
	a, s, stop := sessionPair(b, nil)
	return muxConn{a}, muxConn{s}, stop
}

// earlyPair returns a mux/quic session pair that opens early as conns.
func earlyPair(b *testing.B) (client, server conn, stop func()) {
	a, s, stop := sessionPair(b, &quic.Config{EarlyOpen: true})
	return muxConn{a}, muxConn{s}, stop
}

// rawPair returns a bare quic-go connection pair as conns, set up as
// mux/quic sets up its own: a Transport over a UDP socket on each side.
func rawPair(b *testing.B) (client, server conn, stop func()) {
	ctx := context.Background()
	cert, err := tlsconf.SelfSigned()
	if err != nil {
		b.Fatal(err)
	}
	var closers []func()
	stop = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	udp := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			stop()
			b.Fatal(err)
		}
		closers = append(closers, func() { c.Close() })
		return c
	}
	str, ctr := &quicgo.Transport{Conn: udp()}, &quicgo.Transport{Conn: udp()}
	closers = append(closers, func() { str.Close() }, func() { ctr.Close() })
	ln, err := str.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{quic.ALPN}}, rawQUICConfig())
	if err != nil {
		stop()
		b.Fatal(err)
	}
	closers = append(closers, func() { ln.Close() })
	cc, err := ctr.Dial(ctx, str.Conn.LocalAddr(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{quic.ALPN}}, rawQUICConfig())
	if err != nil {
		stop()
		b.Fatal(err)
	}
	closers = append(closers, func() { cc.CloseWithError(0, "") })
	sc, err := ln.Accept(ctx)
	if err != nil {
		stop()
		b.Fatal(err)
	}
	closers = append(closers, func() { sc.CloseWithError(0, "") })
	return rawConn{cc}, rawConn{sc}, stop
}

var kinds = []struct {
	name string
	pair func(*testing.B) (client, server conn, stop func())
}{
	{"raw", rawPair},
	{"mux", muxPair},
	{"early", earlyPair},
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start, a
// figure less disturbed than the wall time when other processes compete
// for the CPUs.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBulk sends data one way on one channel.
func BenchmarkBulk(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			client, server, stop := k.pair(b)
			defer stop()
			ctx := context.Background()
			received := make(chan int64, 1)
			go func() {
				s, err := server.accept(ctx)
				if err != nil {
					received <- -1
					return
				}
				n, _ := io.Copy(io.Discard, s)
				s.Close()
				received <- n
			}()
			s, err := client.open(ctx)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, bulkChunk)
			b.SetBytes(bulkChunk)
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				if _, err := s.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			s.CloseWrite()
			n := <-received
			b.StopTimer()
			reportCPU(b, cpu)
			s.Close()
			if n != int64(b.N)*bulkChunk {
				b.Fatalf("received %d bytes, sent %d", n, int64(b.N)*bulkChunk)
			}
		})
	}
}

// serveCalls answers calls on server until it fails: each stream carries a
// request, half-closed, and gets a response of the same size.
func serveCalls(server conn) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			s, err := server.accept(ctx)
			if err != nil {
				return
			}
			wg.Go(func() {
				defer s.Close()
				var req [callSize]byte
				if _, err := io.ReadFull(s, req[:]); err != nil {
					return
				}
				s.Write(req[:])
				s.CloseWrite()
			})
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// call opens a stream, sends a request and reads the response.
func call(ctx context.Context, client conn, req, resp []byte) error {
	s, err := client.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Write(req); err != nil {
		return err
	}
	if err := s.CloseWrite(); err != nil {
		return err
	}
	if _, err := io.ReadFull(s, resp); err != nil {
		return err
	}
	return nil
}

// BenchmarkUnary makes one call per stream, one at a time and 32 at once.
func BenchmarkUnary(b *testing.B) {
	for _, conc := range []int{1, 32} {
		for _, k := range kinds {
			b.Run(k.name+"/conc"+strconv.Itoa(conc), func(b *testing.B) {
				client, server, stop := k.pair(b)
				defer stop()
				defer serveCalls(server)()
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				start, cpu := time.Now(), cpuTime()
				if conc == 1 {
					req, resp := make([]byte, callSize), make([]byte, callSize)
					for range b.N {
						if err := call(ctx, client, req, resp); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism((conc + 1) / 2) // GOMAXPROCS is 2 on the reference machine
					b.RunParallel(func(pb *testing.PB) {
						req, resp := make([]byte, callSize), make([]byte, callSize)
						for pb.Next() {
							if err := call(ctx, client, req, resp); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
				reportCPU(b, cpu)
			})
		}
	}
}

// BenchmarkPingPong sends 64 bytes back and forth on one open stream.
func BenchmarkPingPong(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			client, server, stop := k.pair(b)
			defer stop()
			ctx := context.Background()
			done := make(chan struct{})
			go func() {
				defer close(done)
				s, err := server.accept(ctx)
				if err != nil {
					return
				}
				defer s.Close()
				buf := make([]byte, callSize)
				for {
					if _, err := io.ReadFull(s, buf); err != nil {
						return
					}
					if _, err := s.Write(buf); err != nil {
						return
					}
				}
			}()
			s, err := client.open(ctx)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, callSize)
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				if _, err := s.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(s, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportCPU(b, cpu)
			s.CloseWrite()
			s.Close()
			<-done
		})
	}
}
