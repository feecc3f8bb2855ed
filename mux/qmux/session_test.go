package qmux

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/qtalkkit/qtalk/transport/pipe"
)

// newSession is New for a config the test knows to be valid.
func newSession(t testing.TB, conn io.ReadWriteCloser, cfg *Config) *Session {
	t.Helper()
	s, err := New(conn, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// newPair returns two sessions connected by an in-memory pipe.
func newPair(t testing.TB, cfg *Config) (a, b *Session) {
	t.Helper()
	ca, cb := pipe.New()
	a, b = newSession(t, ca, cfg), newSession(t, cb, cfg)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		a.Wait()
		b.Wait()
	})
	return a, b
}

// newTCPPair returns two sessions connected over loopback TCP.
func newTCPPair(t testing.TB, cfg *Config) (a, b *Session) {
	t.Helper()
	ca, cb := tcpConnPair(t)
	a, b = newSession(t, ca, cfg), newSession(t, cb, cfg)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		a.Wait()
		b.Wait()
	})
	return a, b
}

// openPair opens a channel on a and accepts it on b.
func openPair(t testing.TB, a, b *Session) (ca, cb net.Conn) {
	t.Helper()
	ctx := context.Background()
	ch, err := a.Open(ctx)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ach, err := b.Accept(ctx)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return ch, ach
}

func TestEcho(t *testing.T) {
	for name, mk := range map[string]func(testing.TB, *Config) (*Session, *Session){"pipe": newPair, "tcp": newTCPPair} {
		t.Run(name, func(t *testing.T) {
			a, b := mk(t, nil)
			ca, cb := openPair(t, a, b)
			go func() {
				io.Copy(cb, cb)
				cb.Close()
			}()
			msg := bytes.Repeat([]byte("qtalk"), 200_000) // several windows
			go func() {
				ca.Write(msg)
				ca.(interface{ CloseWrite() error }).CloseWrite()
			}()
			got, err := io.ReadAll(ca)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("echo returned %d bytes, want %d", len(got), len(msg))
			}
		})
	}
}

func TestSteadyStateAllocations(t *testing.T) {
	for name, mk := range map[string]func(testing.TB, *Config) (*Session, *Session){"pipe": newPair, "tcp": newTCPPair} {
		t.Run(name, func(t *testing.T) {
			a, b := mk(t, nil)
			ca, cb := openPair(t, a, b)
			wbuf := make([]byte, 16<<10)
			rbuf := make([]byte, 16<<10)
			roundTrip := func() {
				if _, err := ca.Write(wbuf); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(cb, rbuf); err != nil {
					t.Fatal(err)
				}
			}
			for range 64 { // grow the buffers to their steady size
				roundTrip()
			}
			if n := testing.AllocsPerRun(200, roundTrip); n != 0 {
				t.Fatalf("Write+Read allocate %.1f times, want 0", n)
			}
		})
	}
}

// However the peer's hang-up is noticed, by the reader or the writer,
// Wait reports it as the end of the stream.
func TestPeerHangUpIsEOF(t *testing.T) {
	for _, err := range []error{io.EOF, writeError(syscall.EPIPE), writeError(syscall.ECONNRESET), writeError(io.ErrClosedPipe), readError(syscall.ECONNRESET)} {
		if !errors.Is(err, io.EOF) {
			t.Errorf("%v does not match io.EOF", err)
		}
	}
	for _, err := range []error{writeError(syscall.ENOSPC), readError(syscall.ETIMEDOUT)} {
		if errors.Is(err, io.EOF) {
			t.Errorf("%v matches io.EOF", err)
		}
	}
	for range 20 {
		a, b := newPair(t, nil)
		ch, _ := openPair(t, a, b)
		go ch.Write(make([]byte, 1<<20)) // keep a's writer busy
		b.Close()
		if err := a.Wait(); !errors.Is(err, io.EOF) {
			t.Fatalf("Wait after the peer hung up: %v, want io.EOF", err)
		}
	}
}

// New refuses an invalid config with an error instead of a panic, and
// leaves the connection to the caller.
func TestNewInvalidConfig(t *testing.T) {
	ca, cb := pipe.New()
	defer cb.Close()
	s, err := New(ca, &Config{WindowSize: 1024, MaxPacketSize: 4096})
	if !errors.Is(err, ErrInvalidConfig) || s != nil {
		t.Fatalf("New = %v, %v; want nil, an error matching ErrInvalidConfig", s, err)
	}
	if err := (&Config{WindowSize: 1 << 20, MaxWindowSize: 512 << 10}).Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Validate with MaxWindowSize below WindowSize: %v, want an error matching ErrInvalidConfig", err)
	}
	// The connection is still open: New did not take it.
	go ca.Write([]byte("x"))
	var b [1]byte
	if _, err := io.ReadFull(cb, b[:]); err != nil {
		t.Fatalf("the connection New refused is closed: %v", err)
	}
	ca.Close()
}

// TestBytesTransferred: a session counts every byte it writes to its
// connection and reads from it, on each write and read path.
func TestBytesTransferred(t *testing.T) {
	for name, mk := range map[string]func(testing.TB, *Config) (*Session, *Session){"pipe": newPair, "tcp": newTCPPair} {
		t.Run(name, func(t *testing.T) {
			a, b := mk(t, nil)
			ca, cb := openPair(t, a, b)
			const up, down = 200 << 10, 1000
			go func() {
				ca.Write(make([]byte, up)) // large writes, then short ones that are copied
				ca.Write(make([]byte, 10))
			}()
			if _, err := io.ReadFull(cb, make([]byte, up+10)); err != nil {
				t.Fatalf("read: %v", err)
			}
			if _, err := cb.Write(make([]byte, down)); err != nil {
				t.Fatalf("write: %v", err)
			}
			if _, err := io.ReadFull(ca, make([]byte, down)); err != nil {
				t.Fatalf("read back: %v", err)
			}
			a.Close()
			b.Wait()
			aSent, aReceived := a.BytesTransferred()
			bSent, bReceived := b.BytesTransferred()
			// b read until a's end: all that a wrote.
			if bReceived != aSent {
				t.Errorf("b received %d bytes, a sent %d", bReceived, aSent)
			}
			if aSent < up+10 {
				t.Errorf("a sent %d bytes, fewer than the %d of its channel's data", aSent, up+10)
			}
			// a stopped reading at its Close: at most what b wrote.
			if aReceived < down || aReceived > bSent {
				t.Errorf("a received %d bytes; want from %d to b's %d sent", aReceived, down, bSent)
			}
		})
	}
}
