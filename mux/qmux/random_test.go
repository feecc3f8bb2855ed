package qmux

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

var randomSeed = flag.Uint64("qmux.seed", 0, "seed of TestRandomSessions; 0 picks one")

// A randDir is one direction of a channel in TestRandomSessions. Its bytes
// are a ChaCha8 stream, so the reader can check every byte it gets; the
// writer also records the length and a hash of what it wrote, which the
// reader compares with its own at EOF.
type randDir struct {
	seed [32]byte
	done chan struct{} // closed once n and sum are set
	n    int64
	sum  uint64
}

// A randChan is the shared record of one channel.
type randChan struct {
	dirs [2]randDir // 0: from the opener, 1: from the acceptor
	// aborted is set before either end calls Close early, after which
	// writes may fail and a direction may end short.
	aborted atomic.Bool
}

// randLimits are the sizes TestRandomSessions draws from.
type randLimits struct {
	maxBytes int // per direction
	maxChunk int // per Write or Read
}

// TestRandomSessions runs two sessions through random concurrent opens,
// accepts, writes, reads, half-closes and closes, checking every byte.
func TestRandomSessions(t *testing.T) {
	seed := *randomSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -qmux.seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for round := range 4 {
		s1, s2 := r.Uint64(), r.Uint64()
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			randomRound(t, rand.New(rand.NewPCG(s1, s2)))
		})
	}
}

// randomRound is one run of TestRandomSessions, with a random config.
func randomRound(t *testing.T, r *rand.Rand) {
	maxPacket := uint32(512) << r.IntN(5)      // 512 B to 8 KiB
	window := maxPacket * uint32(1+r.IntN(16)) // 1 to 16 packets
	cfg := &Config{WindowSize: window, MaxPacketSize: maxPacket}
	lim := randLimits{maxBytes: 64 << 10, maxChunk: 3 * int(maxPacket)}
	const openers, perOpener = 6, 12
	t.Logf("window %d, max packet %d", window, maxPacket)

	a, b := newPair(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		wg       sync.WaitGroup
		registry sync.Map // token (uint64) -> *randChan
		tokens   atomic.Uint64
	)

	// Each goroutine gets its own generator, seeded from r in a fixed order.
	sub := func() *rand.Rand { return rand.New(rand.NewPCG(r.Uint64(), r.Uint64())) }
	newChan := func(r *rand.Rand) *randChan {
		rc := &randChan{}
		for i := range rc.dirs {
			binary.LittleEndian.PutUint64(rc.dirs[i].seed[:], r.Uint64())
			rc.dirs[i].done = make(chan struct{})
		}
		return rc
	}

	for _, side := range []struct{ open, accept *Session }{{a, b}, {b, a}} {
		for range openers {
			r := sub()
			wg.Go(func() {
				for range perOpener {
					ch, err := side.open.Open(ctx)
					if err != nil {
						t.Errorf("Open: %v", err)
						return
					}
					token := tokens.Add(1)
					rc := newChan(r)
					registry.Store(token, rc)
					if _, err := ch.Write(binary.BigEndian.AppendUint64(nil, token)); err != nil {
						t.Errorf("writing the token: %v", err)
						return
					}
					er := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
					if r.IntN(2) == 0 {
						wg.Go(func() { runEndpoint(t, er, lim, ch, rc, 0) })
					} else {
						runEndpoint(t, er, lim, ch, rc, 0)
					}
				}
			})
		}
		r := sub()
		wg.Go(func() {
			for range openers * perOpener {
				ch, err := side.accept.Accept(ctx)
				if err != nil {
					t.Errorf("Accept: %v", err)
					return
				}
				er := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
				wg.Go(func() {
					var tok [8]byte
					if _, err := io.ReadFull(ch, tok[:]); err != nil {
						t.Errorf("reading the token: %v", err)
						ch.Close()
						return
					}
					rc, ok := registry.Load(binary.BigEndian.Uint64(tok[:]))
					if !ok {
						t.Errorf("unknown token %x", tok)
						ch.Close()
						return
					}
					runEndpoint(t, er, lim, ch, rc.(*randChan), 1)
				})
			}
		})
	}

	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(4 * failAfter):
		t.Error("random operations hung; closing the sessions")
		a.Close()
		b.Close()
		<-finished
	}
	if t.Failed() {
		return
	}

	// Every channel is closed on both sides. A channel opened now is
	// confirmed after each side has handled the CLOSEs the other sent
	// before, so only it is left.
	bch, ach := openPair(t, a, b)
	if na, nb := a.numChannels(), b.numChannels(); na != 1 || nb != 1 {
		t.Errorf("numChannels() = %d and %d after closing everything, want 1 and 1 (the probe)", na, nb)
	}
	ach.Close()
	bch.Close()
	a.Close()
	if err := a.Wait(); err != nil {
		t.Errorf("a.Wait() = %v after Close, want nil", err)
	}
	// b may see a's end of the stream before its own Close, and its last
	// CLOSE may meet a's closed connection.
	b.Close()
	if err := b.Wait(); err != nil && (errors.Is(err, mux.ErrProtocol) || !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe)) {
		t.Errorf("b.Wait() = %v, want nil or the end of the connection", err)
	}
}

// runEndpoint plays one end of a channel: it writes direction out and
// reads direction in concurrently, then closes the channel.
func runEndpoint(t *testing.T, r *rand.Rand, lim randLimits, ch mux.Channel, rc *randChan, out int) {
	rr := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	var wg sync.WaitGroup
	wg.Go(func() { randWrite(t, r, lim, ch, rc, &rc.dirs[out]) })
	wg.Go(func() { randRead(t, rr, lim, ch, rc, &rc.dirs[1-out]) })
	wg.Wait()
	ch.Close()
}

// randWrite writes a random amount in random chunks, then half-closes the
// channel or, now and then, closes it.
func randWrite(t *testing.T, r *rand.Rand, lim randLimits, ch mux.Channel, rc *randChan, d *randDir) {
	gen := rand.NewChaCha8(d.seed)
	h := fnv.New64a()
	total := r.IntN(lim.maxBytes + 1)
	if r.IntN(8) == 0 {
		total = 0
	}
	buf := make([]byte, lim.maxChunk)
	var n int64
	for n < int64(total) {
		k := min(int64(r.IntN(lim.maxChunk+1)), int64(total)-n)
		gen.Read(buf[:k])
		h.Write(buf[:k])
		w, err := ch.Write(buf[:k])
		n += int64(w)
		if err != nil {
			if !rc.aborted.Load() || !errors.Is(err, mux.ErrChannelClosed) {
				t.Errorf("Write: %v", err)
			}
			return
		}
		if w != int(k) {
			t.Errorf("Write = %d, nil; want %d", w, k)
			return
		}
		if r.IntN(16) == 0 {
			runtime.Gosched()
		}
	}
	d.n, d.sum = n, h.Sum64()
	close(d.done)
	var err error
	if r.IntN(10) == 0 {
		rc.aborted.Store(true)
		err = ch.Close()
	} else {
		err = ch.CloseWrite()
	}
	if err != nil && (!rc.aborted.Load() || !errors.Is(err, mux.ErrChannelClosed)) {
		t.Errorf("closing after the writes: %v", err)
	}
}

// randRead reads with random buffer sizes until EOF, checking every byte,
// and now and then gives up early by closing the channel.
func randRead(t *testing.T, r *rand.Rand, lim randLimits, ch mux.Channel, rc *randChan, d *randDir) {
	gen := rand.NewChaCha8(d.seed)
	h := fnv.New64a()
	buf := make([]byte, lim.maxChunk)
	want := make([]byte, lim.maxChunk)
	abortAt := int64(-1)
	if r.IntN(10) == 0 {
		abortAt = int64(r.IntN(lim.maxBytes))
	}
	var n int64
	for {
		k, err := ch.Read(buf[:1+r.IntN(len(buf))])
		gen.Read(want[:k])
		if !bytes.Equal(buf[:k], want[:k]) {
			t.Errorf("bytes %d to %d of a direction differ from what was written", n, n+int64(k))
			rc.aborted.Store(true)
			ch.Close()
			return
		}
		h.Write(buf[:k])
		n += int64(k)
		switch {
		case err == nil:
			if abortAt >= 0 && n >= abortAt {
				rc.aborted.Store(true)
				ch.Close()
				return
			}
			continue
		case errors.Is(err, io.EOF):
			select {
			case <-d.done:
				if n != d.n || h.Sum64() != d.sum {
					t.Errorf("read %d bytes (hash %x), the writer wrote %d (hash %x)", n, h.Sum64(), d.n, d.sum)
				}
			default:
				if !rc.aborted.Load() {
					t.Errorf("EOF after %d bytes, before the writer finished", n)
				}
			}
		case errors.Is(err, mux.ErrChannelClosed) && rc.aborted.Load():
		default:
			t.Errorf("Read after %d bytes: %v", n, err)
		}
		return
	}
}
