package muxtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// stepContext returns a context for one step (an Open, an Accept).
func stepContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), stepTimeout)
}

// await runs f in a goroutine and returns its result, failing the test if f
// has not returned within stepTimeout. A hung f is left to the end of the
// case, whose stop unblocks it.
func await[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	return recv(t, done, what)
}

// recv waits for a value from ch, failing the test after stepTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(stepTimeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: still waiting after %v", what, stepTimeout)
		panic("unreachable")
	}
}

// promptTimeout bounds operations that must return promptly, such as an
// Accept whose context is cancelled. It is generous, for loaded machines.
const promptTimeout = 5 * time.Second

// checkPrompt reports an error if more than promptTimeout passed since
// start.
func checkPrompt(t *testing.T, start time.Time, what string) {
	t.Helper()
	if d := time.Since(start); d > promptTimeout {
		t.Errorf("%s took %v; want it to return promptly (within %v)", what, d, promptTimeout)
	}
}

// goErr runs f in a goroutine; its error arrives on the returned channel.
func goErr(f func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	return done
}

// readResult is the outcome of a Read.
type readResult struct {
	n   int
	err error
}

// readAsync reads from c in a goroutine.
func readAsync(c net.Conn) <-chan readResult {
	done := make(chan readResult, 1)
	go func() {
		n, err := c.Read(make([]byte, 64))
		done <- readResult{n, err}
	}()
	return done
}

// blockCheck is how long assertBlocked watches an operation that must not
// complete. It only makes it likely that the operation is pending when the
// case then unblocks it; no outcome depends on it.
const blockCheck = 50 * time.Millisecond

// assertBlocked fails the test if a value arrives on done within
// blockCheck: the operation behind it should still be blocked.
func assertBlocked[T any](t *testing.T, done <-chan T, what string) {
	t.Helper()
	timer := time.NewTimer(blockCheck)
	defer timer.Stop()
	select {
	case v := <-done:
		t.Fatalf("%s returned (%v) but should block", what, v)
	case <-timer.C:
	}
}

// openAccept opens a channel from opener and accepts it on acceptor, the
// two concurrently. The opener writes a tag that the acceptor checks, so a
// stray channel in the accept queue is reported rather than used.
func openAccept(ctx context.Context, opener, acceptor mux.Session) (oc, ac mux.Channel, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tag := rand.Uint64()
	type res struct {
		c   mux.Channel
		err error
	}
	accepted := make(chan res, 1)
	go func() {
		c, err := acceptor.Accept(ctx)
		if err == nil {
			var b [8]byte
			if _, err = io.ReadFull(c, b[:]); err != nil {
				err = fmt.Errorf("reading the opener's tag from the accepted channel (a stray channel in the accept queue?): %w", err)
			} else if binary.BigEndian.Uint64(b[:]) != tag {
				err = errors.New("accepted a channel that does not carry the opener's tag")
			}
			if err != nil {
				c.Close()
			}
		}
		accepted <- res{c, err}
	}()
	oc, err = opener.Open(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open: %w", err) // cancel ends the Accept
	}
	if _, err := oc.Write(binary.BigEndian.AppendUint64(nil, tag)); err != nil {
		oc.Close()
		return nil, nil, fmt.Errorf("writing the tag: %w", err)
	}
	select {
	case r := <-accepted:
		if r.err != nil {
			oc.Close()
			return nil, nil, fmt.Errorf("accept: %w", r.err)
		}
		return oc, r.c, nil
	case <-ctx.Done():
		// A channel accepted later stays open until the session closes.
		oc.Close()
		return nil, nil, fmt.Errorf("accepting the opened channel: %w", ctx.Err())
	}
}

// pair opens a channel from opener, accepts it on acceptor, and fails the
// test if that does not work. The session's Close releases the channels.
func pair(t *testing.T, opener, acceptor mux.Session) (oc, ac mux.Channel) {
	t.Helper()
	ctx, cancel := stepContext()
	defer cancel()
	oc, ac, err := openAccept(ctx, opener, acceptor)
	if err != nil {
		t.Fatalf("opening a channel: %v", err)
	}
	return oc, ac
}

// checkErr reports an error unless err matches every target.
func checkErr(t *testing.T, err error, what string, targets ...error) {
	t.Helper()
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: got error %v, want one matching %q", what, err, target)
			return
		}
	}
}

// checkTimeout reports an error unless err is os.ErrDeadlineExceeded as a
// net.Error whose Timeout is true, without wrapping.
func checkTimeout(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s: got error %v, want os.ErrDeadlineExceeded", what, err)
		return
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("%s: got %T (%v), want a net.Error with Timeout() true", what, err, err)
	}
}

// checkEOF reads from c, which must give io.EOF with no data.
func checkEOF(t *testing.T, c net.Conn, what string) {
	t.Helper()
	type res struct {
		n   int
		err error
	}
	r := await(t, what, func() res {
		n, err := c.Read(make([]byte, 16))
		return res{n, err}
	})
	if r.n != 0 || r.err != io.EOF {
		t.Errorf("%s: Read = %d, %v; want 0, io.EOF", what, r.n, r.err)
	}
}

// checkRead reads len(want) bytes from c and compares them with want.
func checkRead(t *testing.T, c net.Conn, want []byte, what string) {
	t.Helper()
	got := make([]byte, len(want))
	err := await(t, what, func() error {
		_, err := io.ReadFull(c, got)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: data differs from what was written", what)
	}
}

// writeAsync writes b to c in a goroutine.
func writeAsync(c net.Conn, b []byte) <-chan error {
	return goErr(func() error {
		_, err := c.Write(b)
		return err
	})
}

// eventually polls cond until it holds, failing the test after stepTimeout.
// It is for conditions that become true at some unknown point (the peer's
// close arriving), not for ordering steps of a case.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not the case after %v", what, stepTimeout)
		}
		<-tick.C
	}
}

// Pattern data: the byte at stream offset i is patternTable[i%len], with a
// prime length so that lost, repeated or reordered chunks show.
var patternTable = func() []byte {
	b := make([]byte, 65521)
	rand.NewChaCha8([32]byte{'m', 'u', 'x', 't', 'e', 's', 't'}).Read(b)
	return b
}()

// fillPattern fills b with the pattern from stream offset off.
func fillPattern(b []byte, off int64) {
	for len(b) > 0 {
		n := copy(b, patternTable[off%int64(len(patternTable)):])
		b, off = b[n:], off+int64(n)
	}
}

// patternAt returns the n pattern bytes from stream offset off.
func patternAt(off int64, n int) []byte {
	b := make([]byte, n)
	fillPattern(b, off)
	return b
}

// readPattern reads from c until EOF or an error, checking that the data is
// the pattern from offset 0. It returns the bytes read and the error that
// ended reading (nil for io.EOF).
func readPattern(c net.Conn) (int64, error) {
	buf := make([]byte, 48<<10)
	want := make([]byte, len(buf))
	var off int64
	for {
		n, err := c.Read(buf)
		fillPattern(want[:n], off)
		if !bytes.Equal(buf[:n], want[:n]) {
			return off, fmt.Errorf("data at offset %d differs from what was written", off)
		}
		off += int64(n)
		if err == io.EOF {
			return off, nil
		}
		if err != nil {
			return off, err
		}
	}
}

// blockLimit is how much a blocked writer tries to write: far more than any
// flow-control window, so that finishing means flow control is missing.
const blockLimit = 64 << 20

// A patternWriter writes the pattern to a channel from a goroutine, to
// fill the peer's window while the peer does not read.
type patternWriter struct {
	c       net.Conn
	limit   atomic.Int64 // total bytes to write
	written atomic.Int64 // bytes accepted by Write so far
	done    chan error   // receives the error that ended the writer (nil: limit reached)
}

// startPatternWriter writes the pattern to c in a goroutine until limit
// bytes were written or a Write fails; the result arrives on w.done.
func startPatternWriter(c net.Conn, limit int64) *patternWriter {
	w := &patternWriter{c: c, done: make(chan error, 1)}
	w.limit.Store(limit)
	go w.run()
	return w
}

func (w *patternWriter) run() {
	buf := make([]byte, 32<<10)
	for off := w.written.Load(); off < w.limit.Load(); off = w.written.Load() {
		b := buf[:min(int64(len(buf)), w.limit.Load()-off)]
		fillPattern(b, off)
		n, err := w.c.Write(b)
		w.written.Add(int64(n))
		if err != nil {
			w.done <- err
			return
		}
	}
	w.done <- nil
}

// restart runs the writer again, after it ended, up to limit.
func (w *patternWriter) restart(limit int64) {
	w.limit.Store(limit)
	go w.run()
}

// stopAfter makes a stalled writer end once it has written n more bytes
// than now. A Write in progress is at most 32 KiB, well below n.
func (w *patternWriter) stopAfter(n int64) {
	w.limit.Store(w.written.Load() + n)
}

// waitStalled waits until the writer stops making progress, as it must once
// the peer's window is full. It fails the test if the writer ends instead:
// writing blockLimit bytes unread means there is no flow control.
func (w *patternWriter) waitStalled(t *testing.T) {
	t.Helper()
	const quiet = 100 * time.Millisecond // no progress for this long counts as stalled
	deadline := time.Now().Add(stepTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	last, since := w.written.Load(), time.Now()
	for {
		select {
		case err := <-w.done:
			if err == nil {
				t.Fatalf("writer wrote %d bytes although the peer never read: no flow control", w.written.Load())
			}
			t.Fatalf("writer failed after %d bytes: %v", w.written.Load(), err)
		case now := <-tick.C:
			if n := w.written.Load(); n != last {
				last, since = n, now
			} else if now.Sub(since) >= quiet {
				return
			}
			if now.After(deadline) {
				t.Fatalf("writer still making progress after %v (%d bytes) although the peer never read", stepTimeout, last)
			}
		}
	}
}

// sendRandom writes n bytes of a random stream seeded by seed to c, in
// writes of varying sizes, then half-closes c. It returns the SHA-256 of
// what it wrote.
func sendRandom(c mux.Channel, seed uint64, n int64) ([32]byte, error) {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], seed)
	src := rand.NewChaCha8(s)
	sizes := rand.New(rand.NewPCG(seed, 1))
	h := sha256.New()
	buf := make([]byte, 96<<10)
	for n > 0 {
		b := buf[:min(int64(1+sizes.IntN(len(buf))), n)]
		src.Read(b)
		h.Write(b)
		if _, err := c.Write(b); err != nil {
			return [32]byte{}, err
		}
		n -= int64(len(b))
	}
	if err := c.CloseWrite(); err != nil {
		return [32]byte{}, fmt.Errorf("CloseWrite: %w", err)
	}
	return [32]byte(h.Sum(nil)), nil
}

// recvHash reads c until EOF and returns the number of bytes and their
// SHA-256.
func recvHash(c io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, c, make([]byte, 37<<10))
	return n, [32]byte(h.Sum(nil)), err
}

// A countingReader counts the bytes read from r in n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// recvMoving waits for a value from ch while bytes keep arriving (moved
// grows), failing the test once stepTimeout passed without one: how long
// a transfer takes depends on the CPU it gets (2 MiB each way on 8
// channels over QUIC under the race detector, on a loaded machine, took
// 29 s in one run and more than 30 s in the next), a stall does not.
func recvMoving[T any](t *testing.T, ch <-chan T, moved *atomic.Int64, what string) T {
	t.Helper()
	timer := time.NewTimer(stepTimeout)
	defer timer.Stop()
	last := moved.Load()
	for {
		select {
		case v := <-ch:
			return v
		case <-timer.C:
			now := moved.Load()
			if now == last {
				t.Fatalf("%s: still waiting after %v without a byte received", what, stepTimeout)
			}
			last = now
			timer.Reset(stepTimeout)
		}
	}
}

// A transfer is one direction of a checked transfer.
type transfer struct {
	from, to mux.Channel
	size     int64
	seed     uint64
}

// runTransfers runs the transfers concurrently, each sender half-closing
// when done, and checks that every receiver got exactly what was sent.
func runTransfers(t *testing.T, what string, ts []transfer) {
	t.Helper()
	type sent struct {
		sum [32]byte
		err error
	}
	type got struct {
		n   int64
		sum [32]byte
		err error
	}
	sends := make([]chan sent, len(ts))
	recvs := make([]chan got, len(ts))
	var moved atomic.Int64 // bytes received by all the transfers
	for i, tr := range ts {
		sends[i], recvs[i] = make(chan sent, 1), make(chan got, 1)
		go func() {
			sum, err := sendRandom(tr.from, tr.seed, tr.size)
			sends[i] <- sent{sum, err}
		}()
		go func() {
			n, sum, err := recvHash(countingReader{tr.to, &moved})
			recvs[i] <- got{n, sum, err}
		}()
	}
	for i, tr := range ts {
		s := recvMoving(t, sends[i], &moved, fmt.Sprintf("%s: sending transfer %d", what, i))
		g := recvMoving(t, recvs[i], &moved, fmt.Sprintf("%s: receiving transfer %d", what, i))
		switch {
		case s.err != nil:
			t.Errorf("%s: transfer %d: send: %v", what, i, s.err)
		case g.err != nil:
			t.Errorf("%s: transfer %d: receive after %d bytes: %v", what, i, g.n, g.err)
		case g.n != tr.size:
			t.Errorf("%s: transfer %d: received %d bytes, sent %d", what, i, g.n, tr.size)
		case g.sum != s.sum:
			t.Errorf("%s: transfer %d: SHA-256 of received data differs from sent", what, i)
		}
	}
}

// noErr reports err if it is not nil.
func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
