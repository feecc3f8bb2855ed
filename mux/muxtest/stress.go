package muxtest

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// testManyChannels holds a thousand channels open at once, then echoes
// distinct data through each of them concurrently.
func testManyChannels(t *testing.T, a, b mux.Session) {
	const (
		n          = 1000
		size       = 2 << 10
		maxPending = 64 // opened but not yet accepted, to stay within any accept backlog
	)
	ctx, cancel := stepContext()
	defer cancel()
	pending := make(chan struct{}, maxPending)
	start := make(chan struct{}) // closed once all channels are open
	var startOnce sync.Once
	release := func() { startOnce.Do(func() { close(start) }) }
	defer release()

	// b accepts and echoes.
	var (
		mu          sync.Mutex // guards accepted
		accepted    []mux.Channel
		allAccepted = make(chan struct{})
		echoes      sync.WaitGroup
		echoErrs    = make(chan error, n)
	)
	stopAccept := acceptAll(b, &echoes, func(c mux.Channel) {
		select {
		case <-pending:
		default: // the opener gave up on this channel and released its slot
		}
		mu.Lock()
		accepted = append(accepted, c)
		if len(accepted) == n {
			close(allAccepted)
		}
		mu.Unlock()
		defer c.Close()
		if _, err := io.Copy(c, c); err != nil {
			echoErrs <- fmt.Errorf("echo: %w", err)
			return
		}
		if err := c.CloseWrite(); err != nil {
			echoErrs <- fmt.Errorf("echo CloseWrite: %w", err)
		}
	})
	defer stopAccept()

	// a opens n channels and, once all are open, checks an echo on each.
	var (
		opened    = make([]mux.Channel, n)
		openCount atomic.Int32
		allOpened = make(chan struct{})
		openErrs  = make(chan error, n)
		workers   sync.WaitGroup
		errs      = make(chan error, n)
	)
	for i := range n {
		workers.Go(func() {
			pending <- struct{}{}
			c, err := a.Open(ctx)
			if err != nil {
				<-pending
				openErrs <- fmt.Errorf("opening channel %d: %w", i, err)
			}
			opened[i] = c
			if openCount.Add(1) == n {
				close(allOpened)
			}
			if err != nil {
				return
			}
			defer c.Close()
			<-start
			want := append(fmt.Appendf(nil, "channel %d:", i), patternAt(int64(i)*size, size)...)
			if _, err := c.Write(want); err != nil {
				errs <- fmt.Errorf("channel %d: Write: %w", i, err)
				return
			}
			if err := c.CloseWrite(); err != nil {
				errs <- fmt.Errorf("channel %d: CloseWrite: %w", i, err)
				return
			}
			got, err := io.ReadAll(c)
			switch {
			case err != nil:
				errs <- fmt.Errorf("channel %d: reading the echo: %w", i, err)
			case !bytes.Equal(got, want):
				errs <- fmt.Errorf("channel %d: echo differs from what was written (%d bytes, wrote %d)", i, len(got), len(want))
			}
		})
	}
	recv(t, allOpened, "opening all channels")
	close(openErrs)
	for err := range openErrs {
		t.Fatal(err)
	}
	recv(t, allAccepted, "accepting all channels")
	mu.Lock()
	if !distinctIDs(accepted) {
		t.Errorf("the %d channels open on the accepting side do not have distinct IDs", n)
	}
	mu.Unlock()
	if !distinctIDs(opened) {
		t.Errorf("the %d channels open on the opening side do not have distinct IDs", n)
	}
	release()

	recv(t, waitGroupDone(&workers), "echoes on all channels")
	noErr(t, await(t, "stopping Accept", stopAccept), "Accept")
	recv(t, waitGroupDone(&echoes), "echo goroutines to end")
	close(errs)
	close(echoErrs)
	for err := range errs {
		t.Error(err)
	}
	for err := range echoErrs {
		t.Error(err)
	}
}

// waitGroupDone returns a channel closed once wg's counter is zero.
func waitGroupDone(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// testLargeTransfer sends 16 MiB each way on one channel at once.
func testLargeTransfer(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	runTransfers(t, "16 MiB each way on one channel", []transfer{
		{from: oc, to: ac, size: 16 << 20, seed: 1},
		{from: ac, to: oc, size: 16 << 20, seed: 2},
	})
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
}

// testParallelTransfers sends 2 MiB each way on 8 channels at once, opened
// from both sides.
func testParallelTransfers(t *testing.T, a, b mux.Session) {
	var ts []transfer
	var chans []mux.Channel
	for i := range 8 {
		x, y := a, b
		if i%2 == 1 {
			x, y = b, a
		}
		oc, ac := pair(t, x, y)
		chans = append(chans, oc, ac)
		ts = append(ts,
			transfer{from: oc, to: ac, size: 2 << 20, seed: uint64(10 + 2*i)},
			transfer{from: ac, to: oc, size: 2 << 20, seed: uint64(11 + 2*i)})
	}
	runTransfers(t, "2 MiB each way on 8 channels", ts)
	for _, c := range chans {
		noErr(t, c.Close(), "Close")
	}
}

// testIndependence checks that a channel whose reader does not read, its
// writer blocked by flow control, does not hold up other channels, and
// that the blocked writer resumes once the reader reads.
func testIndependence(t *testing.T, a, b mux.Session) {
	stuck, unread := pair(t, a, b)
	w := startPatternWriter(stuck, blockLimit)
	w.waitStalled(t)

	oc, ac := pair(t, a, b)
	runTransfers(t, "1 MiB each way beside a blocked channel", []transfer{
		{from: oc, to: ac, size: 1 << 20, seed: 3},
		{from: ac, to: oc, size: 1 << 20, seed: 4},
	})
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
	bc, ac2 := pair(t, b, a)
	noErr(t, bc.Close(), "Close")
	noErr(t, ac2.Close(), "Close")

	select {
	case err := <-w.done:
		t.Fatalf("the blocked writer ended (%v) after %d bytes although its peer never read", err, w.written.Load())
	default:
	}

	// Reading the blocked channel lets its writer finish.
	w.stopAfter(1 << 20)
	type res struct {
		n   int64
		err error
	}
	read := make(chan res, 1)
	go func() {
		n, err := readPattern(unread)
		read <- res{n, err}
	}()
	noErr(t, recv(t, w.done, "the blocked writer to resume and finish once its peer reads"), "Write")
	noErr(t, stuck.CloseWrite(), "CloseWrite")
	r := recv(t, read, "reading the blocked channel")
	noErr(t, r.err, "reading the blocked channel")
	if r.n != w.written.Load() {
		t.Errorf("read %d bytes from the blocked channel, %d were written", r.n, w.written.Load())
	}
	noErr(t, stuck.Close(), "Close")
	noErr(t, unread.Close(), "Close")
}
