package muxtest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// testOpenAccept opens channels from a with b's Accept started before and
// after the Open, and exchanges a message each way on each.
func testOpenAccept(t *testing.T, a, b mux.Session) {
	for _, s := range []mux.Session{a, b} {
		if s.LocalAddr() == nil || s.RemoteAddr() == nil {
			t.Errorf("session LocalAddr = %v, RemoteAddr = %v; want non-nil", s.LocalAddr(), s.RemoteAddr())
		}
	}
	for i := range 10 {
		ctx, cancel := stepContext()
		type res struct {
			c   mux.Channel
			err error
		}
		open := func() res { c, err := a.Open(ctx); return res{c, err} }
		accept := func() res { c, err := b.Accept(ctx); return res{c, err} }
		var o, ac res
		if i%2 == 0 { // Accept pending before Open
			acc := make(chan res, 1)
			go func() { acc <- accept() }()
			o = await(t, "Open", open)
			ac = recv(t, acc, "Accept")
		} else { // Open started before Accept
			op := make(chan res, 1)
			go func() { op <- open() }()
			ac = await(t, "Accept", accept)
			o = recv(t, op, "Open")
		}
		cancel()
		if o.err != nil || ac.err != nil {
			t.Fatalf("channel %d: Open error %v, Accept error %v", i, o.err, ac.err)
		}
		for _, c := range []mux.Channel{o.c, ac.c} {
			if c.LocalAddr() == nil || c.RemoteAddr() == nil {
				t.Errorf("channel LocalAddr = %v, RemoteAddr = %v; want non-nil", c.LocalAddr(), c.RemoteAddr())
			}
		}
		ping, pong := fmt.Appendf(nil, "ping %d", i), fmt.Appendf(nil, "pong %d", i)
		werr := writeAsync(o.c, ping)
		checkRead(t, ac.c, ping, "reading the opener's message")
		noErr(t, recv(t, werr, "Write"), "Write")
		werr = writeAsync(ac.c, pong)
		checkRead(t, o.c, pong, "reading the acceptor's message")
		noErr(t, recv(t, werr, "Write"), "Write")
		o.c.Close()
		ac.c.Close()
	}
}

// testEcho sends messages of many sizes, around the usual packet sizes and
// beyond a window, through an echo on the peer.
func testEcho(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	echoed := goErr(func() error {
		if _, err := io.Copy(ac, ac); err != nil {
			return err
		}
		return ac.CloseWrite()
	})
	var off int64
	for _, n := range []int{1, 2, 100, 1 << 10, 32<<10 - 1, 32 << 10, 32<<10 + 1, 64<<10 + 3, 300 << 10, 1 << 20} {
		msg := patternAt(off, n)
		off += int64(n)
		werr := writeAsync(oc, msg)
		checkRead(t, oc, msg, fmt.Sprintf("reading the echo of %d bytes", n))
		noErr(t, recv(t, werr, "Write"), "Write")
	}
	// An empty Write is no EOF.
	if n, err := oc.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) = %d, %v; want 0, nil", n, err)
	}
	msg := []byte("after an empty write")
	noErr(t, recv(t, writeAsync(oc, msg), "Write"), "Write")
	checkRead(t, oc, msg, "reading the echo after an empty Write")

	if err := oc.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	noErr(t, recv(t, echoed, "echo to end at EOF"), "echo")
	checkEOF(t, oc, "Read after the echo half-closed")
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
}

// testChannelIDs checks that the IDs of the channels a side has not closed
// are distinct, through a round of opens from both sides, closes by both,
// by one or by neither side, and a second round. A channel closed by one
// side still holds its ID on the other side until that side closes it too.
func testChannelIDs(t *testing.T, a, b mux.Session) {
	const perSide = 24
	type chanPair struct {
		a, b             mux.Channel // the ends on a and on b
		aClosed, bClosed bool
	}
	var pairs []*chanPair

	round := func() []*chanPair {
		var ps []*chanPair
		for range perSide {
			ac, bc := pair(t, a, b)
			ps = append(ps, &chanPair{a: ac, b: bc})
			bc2, ac2 := pair(t, b, a)
			ps = append(ps, &chanPair{a: ac2, b: bc2})
		}
		return ps
	}
	check := func(when string) {
		t.Helper()
		for _, side := range []struct {
			name   string
			end    func(*chanPair) mux.Channel
			closed func(*chanPair) bool
		}{
			{"a", func(p *chanPair) mux.Channel { return p.a }, func(p *chanPair) bool { return p.aClosed }},
			{"b", func(p *chanPair) mux.Channel { return p.b }, func(p *chanPair) bool { return p.bClosed }},
		} {
			held := map[uint64]bool{}
			shared := 0
			for _, p := range pairs {
				if side.closed(p) {
					continue
				}
				id := side.end(p).ID()
				if held[id] {
					if shared++; shared == 1 {
						t.Errorf("%s: session %s has two channels it has not closed with ID %d", when, side.name, id)
					}
				}
				held[id] = true
			}
			if shared > 1 {
				t.Errorf("%s: session %s: %d IDs in all are shared by channels it has not closed", when, side.name, shared)
			}
		}
	}

	pairs = round()
	check("after opening from both sides")

	for i, p := range pairs {
		switch i % 4 {
		case 0: // closed by both
			p.a.Close()
			p.b.Close()
			p.aClosed, p.bClosed = true, true
		case 1: // closed by a only
			p.a.Close()
			p.aClosed = true
		case 2: // closed by b only
			p.b.Close()
			p.bClosed = true
		}
	}
	pairs = append(pairs, round()...)
	check("after closing some channels and opening more")

	// Channels closed by one side still route to their own peer end.
	for i, p := range pairs {
		switch {
		case p.aClosed && !p.bClosed:
			checkEOF(t, p.b, fmt.Sprintf("channel %d: Read on b after a closed it", i))
		case p.bClosed && !p.aClosed:
			checkEOF(t, p.a, fmt.Sprintf("channel %d: Read on a after b closed it", i))
		case !p.aClosed && !p.bClosed:
			msg := fmt.Appendf(nil, "channel %d", i)
			noErr(t, recv(t, writeAsync(p.a, msg), "Write"), "Write")
			checkRead(t, p.b, msg, fmt.Sprintf("channel %d: reading on b", i))
			noErr(t, recv(t, writeAsync(p.b, msg), "Write"), "Write")
			checkRead(t, p.a, msg, fmt.Sprintf("channel %d: reading on a", i))
		}
	}
	for _, p := range pairs {
		p.a.Close()
		p.b.Close()
	}
}

// acceptAll accepts channels on s until stopped or Accept fails, running
// handle on each in its own goroutine counted by handlers. The returned
// function, which may be called more than once, stops accepting and returns
// the error that ended the loop early, if any; after it, handlers.Wait waits for the handlers.
func acceptAll(s mux.Session, handlers *sync.WaitGroup, handle func(mux.Channel)) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := goErr(func() error {
		for {
			c, err := s.Accept(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			handlers.Go(func() { handle(c) })
		}
	})
	return sync.OnceValue(func() error {
		cancel()
		return <-done
	})
}

// distinctIDs reports whether the IDs of cs are distinct.
func distinctIDs(cs []mux.Channel) bool {
	ids := make([]uint64, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID())
	}
	slices.Sort(ids)
	return len(slices.Compact(ids)) == len(cs)
}
