package hostile_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// An rpcTarget is an rpc server on loopback TCP, with short request and
// write timeouts so that the suite stays quick, and a good client that
// calls it all along.
type rpcTarget struct {
	addr    string
	running atomic.Int32 // handlers running
	srv     *rpc.Server

	good *goodClient

	release     chan struct{} // ends the calls to hold
	releaseOnce sync.Once
}

// releaseHeld ends the calls to hold, and makes later ones return at once.
func (tg *rpcTarget) releaseHeld() { tg.releaseOnce.Do(func() { close(tg.release) }) }

const (
	targetRequestTimeout = 2 * time.Second
	targetWriteTimeout   = 500 * time.Millisecond
)

// startTarget starts the server on loopback TCP, with settings changed
// by opts, and the good client; both end with the test, which then fails
// if any good call failed.
func startTarget(t *testing.T, opts ...func(*rpc.Server)) *rpcTarget {
	t.Helper()
	return startTargetOn(t, "tcp", nil, opts...)
}

// startTargetOn is startTarget with the scheme of the listener, tcp or
// ws, and options for the listener.
func startTargetOn(t *testing.T, scheme string, lnOpts []transport.Option, opts ...func(*rpc.Server)) *rpcTarget {
	t.Helper()
	tg := &rpcTarget{release: make(chan struct{})}
	mux := rpc.NewRespondMux()
	mux.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) {
		tg.running.Add(1)
		defer tg.running.Add(-1)
		var v any
		if err := c.Receive(&v); err != nil {
			r.Error(err)
			return
		}
		r.Return(v)
	})
	mux.HandleFunc("flood", func(r rpc.Responder, c *rpc.Call) {
		tg.running.Add(1)
		defer tg.running.Add(-1)
		if err := r.Continue(nil); err != nil {
			return
		}
		value := make([]byte, 64<<10)
		for r.Send(value) == nil {
		}
	})
	// hold is a call that takes long and reads nothing more: it says it
	// began (a reply header the client can see), then waits until the
	// test releases it.
	mux.HandleFunc("hold", func(r rpc.Responder, c *rpc.Call) {
		tg.running.Add(1)
		defer tg.running.Add(-1)
		r.Continue(nil)
		<-tg.release
	})
	tg.srv = &rpc.Server{Handler: mux, RequestTimeout: targetRequestTimeout, WriteTimeout: targetWriteTimeout}
	for _, o := range opts {
		o(tg.srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	path := map[string]string{"ws": "/qtalk"}[scheme]
	ln, err := transport.Listen(ctx, scheme+"://127.0.0.1:0"+path, lnOpts...)
	if err != nil {
		t.Fatal(err)
	}
	tg.addr = scheme + "://" + ln.Addr().String() + path
	served := make(chan struct{})
	go func() { tg.srv.Serve(ln); close(served) }()

	sess, err := transport.Dial(ctx, tg.addr)
	if err != nil {
		t.Fatal(err)
	}
	client := rpc.NewClient(sess)
	tg.good = startGoodClient(ctx, func(ctx context.Context, i int) (got int, err error) {
		_, err = client.Call(ctx, "echo", i, &got)
		return got, err
	})
	t.Cleanup(func() {
		cancel()
		tg.releaseHeld()
		<-tg.good.done
		sess.Close()
		sctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		tg.srv.Shutdown(sctx)
		<-served
		tg.good.check(t)
	})
	return tg
}

// noRequestTimeout is for the rows whose calls come whole but large: how
// long the server takes to read them depends on the machine (seconds
// under the race detector on a loaded one), and what is under test is
// what they cost, not how long they may take to come.
func noRequestTimeout(s *rpc.Server) { s.RequestTimeout = -1 }

// attacker dials a session of its own to the target. Its channels'
// windows are small, so that what it buffers of the server's data (in
// this process too) does not count in the server's heap.
func (tg *rpcTarget) attacker(t *testing.T) mux.Session {
	t.Helper()
	sess, err := transport.Dial(context.Background(), tg.addr, transport.WithSessionConfig(&qmux.Config{WindowSize: attackerWindow}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// send opens a channel on sess and writes data on it.
func send(t *testing.T, sess mux.Session, data []byte) mux.Channel {
	t.Helper()
	ch, err := sess.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 {
		if _, err := ch.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	return ch
}

// frame is one rpc frame (spec/rpc.md section 3).
func frame(kind byte, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32([]byte{kind}, uint32(len(payload)))
	return append(b, payload...)
}

// callFrame is a CBOR CALL frame of selector with timeout, declaring
// pairs metadata pairs that are all "" -> "" (spec/rpc.md section 4).
func callFrame(selector string, timeout time.Duration, pairs int) []byte {
	p := binary.AppendUvarint(nil, uint64(len(selector)))
	p = append(p, selector...)
	p = append(p, 4, 'c', 'b', 'o', 'r')
	p = binary.AppendUvarint(p, uint64(timeout))
	p = binary.AppendUvarint(p, uint64(pairs))
	p = append(p, make([]byte, 2*pairs)...)
	return frame(1, p)
}

var cborNull = frame(3, []byte{0xf6})

// replyCode reads ch up to the first error it carries (in a reply header
// or an ERROR frame) and returns its code; -1 if ch ended without one.
// It sets no read deadline: every answer it waits for must come, a hang is
// what the test binary's timeout reports, and a call of 4 MiB answered
// after TestSessionMemory, under the race detector on a loaded machine,
// once took more than 20 s.
func replyCode(t *testing.T, ch mux.Channel) int {
	t.Helper()
	for {
		var h [5]byte
		if _, err := io.ReadFull(ch, h[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return -1
			}
			t.Fatalf("reading the answer: %v", err)
		}
		p := make([]byte, binary.BigEndian.Uint32(h[1:]))
		if _, err := io.ReadFull(ch, p); err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		switch {
		case h[0] == 2 && len(p) > 1 && p[0]&2 != 0:
			code, _ := binary.Uvarint(p[1:])
			return int(code)
		case h[0] == 4:
			code, _ := binary.Uvarint(p)
			return int(code)
		}
	}
}

// goodSlack is how many goroutines the good client's session may add to
// those counted before an attack: the server keeps up to 16 idle workers
// per session, and the calls and channels opened ahead come and go.
const goodSlack = 24

// settle waits, for a generous bound, until the process is back to at
// most goroutines goroutines (plus goodSlack) and the target runs no
// handler: what the attack held was let go.
func settle(t *testing.T, tg *rpcTarget, goroutines int) {
	t.Helper()
	goroutines += goodSlack
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= goroutines && tg.running.Load() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the attack: %d goroutines (want at most %d), %d handlers running", n, goroutines, tg.running.Load())
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not waiting for one to happen by itself
	}
}

// heapInuse returns the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// allocatedDuring returns the bytes allocated by the process while f ran.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const (
	MiB            = 1 << 20
	attackerWindow = 64 << 10
)

// TestClientNeverReads: 64 streaming calls to a client that never reads
// them (each channel's window fills) once pinned ~190 MiB for as long as
// the client stayed. Each write now fails after the write timeout, the
// calls end, and what they queued is let go while the attacker stays.
func TestClientNeverReads(t *testing.T) {
	tg := startTarget(t)
	baseGoroutines, baseHeap := runtime.NumGoroutine(), heapInuse()
	sess := tg.attacker(t)
	const calls = 64
	for range calls {
		send(t, sess, append(callFrame("flood", 0, 0), cborNull...)) // and never read
	}
	// The attacker stays connected: the calls end all the same.
	settle(t, tg, baseGoroutines+16) // the attacker's session and the server's idle workers for it
	if heap := heapInuse(); heap > baseHeap+calls*attackerWindow+16*MiB {
		t.Errorf("heap %d MiB with the attacker connected after its calls ended, %d MiB before", heap/MiB, baseHeap/MiB)
	}
	sess.Close()
	settle(t, tg, baseGoroutines)
}

// TestChannelsNeverUsed: a session that opens channels and sends nothing
// on them. The server refuses them after the request timeout, and once
// MaxWaitingChannels of them are stale, at once: the goroutines they hold
// stay bounded and go once they are refused.
func TestChannelsNeverUsed(t *testing.T) {
	tg := startTarget(t)
	baseGoroutines := runtime.NumGoroutine()
	sess := tg.attacker(t)
	var chans []mux.Channel
	for range 2 * rpc.DefaultMaxWaitingChannels {
		chans = append(chans, send(t, sess, nil))
	}
	for _, ch := range chans {
		if code := replyCode(t, ch); code != int(rpc.CodeUnavailable) {
			t.Fatalf("an unused channel got code %d, want unavailable (refused)", code)
		}
		ch.Close()
	}
	settle(t, tg, baseGoroutines+16) // the attacker's session and the server's idle workers for it
	sess.Close()
	settle(t, tg, baseGoroutines)
}

// TestCallWithoutArguments: calls with a deadline whose arguments never
// come, or only half of them, once held 7,147 calls with no reply. Each
// now gets deadline_exceeded once its deadline passed, counted from its
// header, and the handler never runs.
func TestCallWithoutArguments(t *testing.T) {
	tg := startTarget(t)
	baseGoroutines := runtime.NumGoroutine()
	sess := tg.attacker(t)
	const timeout = 200 * time.Millisecond
	var chans []mux.Channel
	for i := range 200 {
		data := callFrame("echo", timeout, 0)
		if i%2 == 1 {
			data = append(data, 3, 0, 0, 0, 8, 0x65) // half of a VALUE frame
		}
		chans = append(chans, send(t, sess, data))
	}
	for _, ch := range chans {
		// Refused (unavailable) if the server had not read the header
		// within its request timeout: a loaded machine.
		if code := replyCode(t, ch); code != int(rpc.CodeDeadlineExceeded) && code != int(rpc.CodeUnavailable) {
			t.Fatalf("a call without arguments got code %d, want deadline_exceeded", code)
		}
		ch.Close()
	}
	sess.Close()
	settle(t, tg, baseGoroutines)
}

// TestNestedCBOR: 4 MiB of empty CBOR maps (in arrays under the
// decoder's limit of elements), four calls at once, once reached 1.1 GiB.
// Each is now refused with resource_exhausted before it is decoded.
func TestNestedCBOR(t *testing.T) {
	tg := startTarget(t, noRequestTimeout)
	baseGoroutines := runtime.NumGoroutine()
	sess := tg.attacker(t)
	const arrays, maps = 31, 131000
	args := binary.BigEndian.AppendUint32([]byte{0x9a}, arrays)
	for range arrays {
		args = binary.BigEndian.AppendUint32(append(args, 0x9a), maps)
		args = append(args, bytes.Repeat([]byte{0xa0}, maps)...)
	}
	call := append(callFrame("echo", 0, 0), frame(3, args)...)
	got := allocatedDuring(func() {
		var wg sync.WaitGroup
		for range 4 {
			ch := send(t, sess, call)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := replyCode(t, ch); code != int(rpc.CodeResourceExhausted) {
					t.Errorf("4 MiB of empty maps got code %d, want resource_exhausted", code)
				}
				ch.Close()
			}()
		}
		wg.Wait()
	})
	// The frames themselves: 4 MiB each written, read, buffered, copied.
	if got > 128*MiB {
		t.Errorf("four calls of 4 MiB of empty maps allocated %d MiB, want under 128", got/MiB)
	}
	sess.Close()
	settle(t, tg, baseGoroutines)
}

// TestHugeMetadataCount: a call header declaring two million metadata
// pairs once cost 163 MiB per call, the map sized from the count.
func TestHugeMetadataCount(t *testing.T) {
	tg := startTarget(t, noRequestTimeout)
	baseGoroutines := runtime.NumGoroutine()
	sess := tg.attacker(t)
	call := append(callFrame("echo", 0, 2_000_000), cborNull...)
	got := allocatedDuring(func() {
		for range 4 {
			ch := send(t, sess, call)
			if code := replyCode(t, ch); code != -1 {
				t.Errorf("the call failed with code %d", code)
			}
			ch.Close()
		}
	})
	if got > 128*MiB {
		t.Errorf("four calls declaring 2M metadata pairs allocated %d MiB, want under 128", got/MiB)
	}
	sess.Close()
	settle(t, tg, baseGoroutines)
}
