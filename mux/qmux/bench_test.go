package qmux

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
)

// Each benchmark runs over raw loopback TCP and over qmux on loopback TCP
// in the same file and run, so their figures can be compared as ratios.

const (
	bulkChunk = 64 << 10 // bytes per Write
	readChunk = 32 << 10 // bytes per Read, as in the bench harness (io.Copy's 8 KiB would slow raw TCP most)
)

// tcpConnPair returns both ends of a loopback TCP connection.
func tcpConnPair(tb testing.TB) (net.Conn, net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	c2 := <-accepted
	if c2 == nil {
		tb.Fatal("loopback accept failed")
	}
	tb.Cleanup(func() { c1.Close(); c2.Close() })
	return c1, c2
}

// benchBulk measures one-way throughput from w to r.
func benchBulk(b *testing.B, w, r net.Conn) {
	buf := make([]byte, bulkChunk)
	done := make(chan error, 1)
	total := int64(b.N) * bulkChunk
	go func() { done <- drain(r, total) }()
	b.SetBytes(bulkChunk)
	b.ResetTimer()
	for range b.N {
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// drain reads n bytes from r, readChunk bytes at a time.
func drain(r io.Reader, n int64) error {
	buf := make([]byte, readChunk)
	for n > 0 {
		k, err := r.Read(buf[:min(int64(len(buf)), n)])
		n -= int64(k)
		if err != nil {
			return err
		}
	}
	return nil
}

func BenchmarkBulk(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		c1, c2 := tcpConnPair(b)
		benchBulk(b, c1, c2)
	})
	b.Run("qmux", func(b *testing.B) {
		s1, s2 := newTCPPair(b, nil)
		c1, c2 := openPair(b, s1, s2)
		benchBulk(b, c1, c2)
	})
}

// BenchmarkChannels64 measures aggregate throughput of 64 concurrent
// writers: 64 channels over one qmux session, against 64 goroutines sharing
// one TCP connection (raw TCP cannot interleave, so they take turns).
func BenchmarkChannels64(b *testing.B) {
	const n = 64
	b.Run("tcp", func(b *testing.B) {
		c1, c2 := tcpConnPair(b)
		var mu sync.Mutex
		benchParallel(b, n, func(int) (io.Writer, io.Reader) {
			return lockedWriter{&mu, c1}, nil
		}, c2)
	})
	b.Run("qmux", func(b *testing.B) {
		s1, s2 := newTCPPair(b, nil)
		ws, rs := make([]net.Conn, n), make([]net.Conn, n)
		for i := range n {
			ws[i], rs[i] = openPair(b, s1, s2)
		}
		benchParallel(b, n, func(i int) (io.Writer, io.Reader) { return ws[i], rs[i] }, nil)
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// benchParallel writes b.N chunks spread over n writers; each writer's
// reader (or the shared reader) drains its bytes.
func benchParallel(b *testing.B, n int, ends func(int) (io.Writer, io.Reader), shared io.Reader) {
	buf := make([]byte, bulkChunk)
	per := b.N/n + 1
	b.SetBytes(bulkChunk)
	b.ResetTimer()
	var wg sync.WaitGroup
	if shared != nil {
		wg.Go(func() { drain(shared, int64(per*n)*bulkChunk) })
	}
	for i := range n {
		w, r := ends(i)
		if r != nil {
			wg.Go(func() { drain(r, int64(per)*bulkChunk) })
		}
		wg.Go(func() {
			for range per {
				if _, err := w.Write(buf); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// benchPingPong measures 64-byte round trips.
func benchPingPong(b *testing.B, c1, c2 net.Conn) {
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c2, buf); err != nil {
				return
			}
			if _, err := c2.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c1.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c1, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPingPong(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		c1, c2 := tcpConnPair(b)
		benchPingPong(b, c1, c2)
	})
	b.Run("qmux", func(b *testing.B) {
		s1, s2 := newTCPPair(b, nil)
		c1, c2 := openPair(b, s1, s2)
		benchPingPong(b, c1, c2)
	})
}

// BenchmarkOpenClose measures channel churn: open, accept, close both ends.
// Its raw TCP counterpart is a TCP connect, accept and close.
func BenchmarkOpenClose(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		b.ResetTimer()
		for range b.N {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("qmux", func(b *testing.B) {
		s1, s2 := newTCPPair(b, nil)
		go func() {
			for {
				c, err := s2.Accept(context.Background())
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c, err := s1.Open(ctx)
			if err != nil {
				b.Fatalf("%v (open channels: %d here, %d at the peer, %d waiting for accept)", err, s1.numChannels(), s2.numChannels(), s2.accepts.len())
			}
			c.Close()
		}
	})
}
