package pipe_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

func TestConn(t *testing.T) {
	// The small size still holds nettest's 13-byte echo round trip.
	for _, size := range []int{pipe.DefaultSize, 64} {
		t.Run(sizeName(size), func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				c1, c2 = pipe.NewSize(size)
				return c1, c2, func() { c1.Close(); c2.Close() }, nil
			})
		})
	}
}

func sizeName(n int) string {
	if n == pipe.DefaultSize {
		return "default"
	}
	return "small"
}

// Both ends write far more than the buffer holds before either reads: with
// net.Pipe this deadlocks; here each write blocks only until the peer's
// reader drains it.
func TestSimultaneousWrites(t *testing.T) {
	a, b := pipe.New()
	defer a.Close()
	defer b.Close()
	const size = 1 << 20
	wantA, wantB := randBytes(size, 1), randBytes(size, 2)

	var wg sync.WaitGroup
	var gotA, gotB []byte
	var errA, errB, rerrA, rerrB error
	wg.Add(4)
	go func() { defer wg.Done(); _, errA = a.Write(wantA) }()
	go func() { defer wg.Done(); _, errB = b.Write(wantB) }()
	go func() { defer wg.Done(); gotA, rerrA = readN(b, size) }()
	go func() { defer wg.Done(); gotB, rerrB = readN(a, size) }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		a.Close()
		b.Close()
		<-done
		t.Fatal("deadlock")
	}
	for _, err := range []error{errA, errB, rerrA, rerrB} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(gotA, wantA) || !bytes.Equal(gotB, wantB) {
		t.Fatal("data differs")
	}
}

// Both ends write everything first, then read: the buffers must hold it.
func TestWriteBeforeRead(t *testing.T) {
	a, b := pipe.NewSize(1 << 20)
	defer a.Close()
	defer b.Close()
	wantA, wantB := randBytes(1<<20, 3), randBytes(1<<20, 4)
	done := make(chan error, 2)
	go func() { _, err := a.Write(wantA); done <- err }()
	go func() { _, err := b.Write(wantB); done <- err }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got, err := readN(b, len(wantA)); err != nil || !bytes.Equal(got, wantA) {
		t.Fatalf("b read: %v", err)
	}
	if got, err := readN(a, len(wantB)); err != nil || !bytes.Equal(got, wantB) {
		t.Fatalf("a read: %v", err)
	}
}

func TestAllocs(t *testing.T) {
	a, b := pipe.NewSize(4096)
	defer a.Close()
	defer b.Close()
	wbuf, rbuf := make([]byte, 3000), make([]byte, 3000)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := a.Write(wbuf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(b, rbuf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Write+Read, want 0", allocs)
	}
}

func TestCloseSemantics(t *testing.T) {
	a, b := pipe.New()
	if _, err := a.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// The closed end.
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read on closed end: %v, want net.ErrClosed", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write on closed end: %v, want net.ErrClosed", err)
	}
	if err := a.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline on closed end: %v, want net.ErrClosed", err)
	}
	if err := a.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}

	// The other end drains, then reads EOF; its writes fail.
	if got, err := io.ReadAll(b); err != nil || string(got) != "hello" {
		t.Errorf("ReadAll = %q, %v; want hello, nil", got, err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write to closed peer: %v, want io.ErrClosedPipe", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseUnblocksPeer(t *testing.T) {
	a, b := pipe.NewSize(16)
	defer b.Close()
	errs := make(chan error, 2)
	go func() { _, err := b.Read(make([]byte, 1)); errs <- err }()
	go func() {
		_, err := b.Write(make([]byte, 64)) // more than the buffer: blocks
		errs <- err
	}()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("unblocked with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock the peer")
		}
	}
}

func TestCloseWrite(t *testing.T) {
	a, b := pipe.New()
	defer a.Close()
	defer b.Close()
	cw := a.(interface{ CloseWrite() error })
	a.Write([]byte("req"))
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after CloseWrite: %v", err)
	}
	if got, err := io.ReadAll(b); err != nil || string(got) != "req" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	b.Write([]byte("resp"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "resp" {
		t.Fatalf("read after CloseWrite = %q, %v", buf, err)
	}
}

func TestDeadlineErrorIsUnwrapped(t *testing.T) {
	a, b := pipe.New()
	defer a.Close()
	defer b.Close()
	a.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := a.Read(make([]byte, 1))
	if err != os.ErrDeadlineExceeded {
		t.Fatalf("Read = %v, want os.ErrDeadlineExceeded", err)
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("%v is not a timeout net.Error", err)
	}
	// Clearing the deadline makes Read block again until data arrives.
	a.SetReadDeadline(time.Time{})
	b.Write([]byte("x"))
	if _, err := a.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestAddr(t *testing.T) {
	a, b := pipe.New()
	defer a.Close()
	defer b.Close()
	want := mux.Addr{Net: "pipe"}
	if a.LocalAddr() != want || a.RemoteAddr() != want || b.LocalAddr().Network() != "pipe" {
		t.Fatalf("addrs %v %v", a.LocalAddr(), a.RemoteAddr())
	}
}

func randBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readN(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}
