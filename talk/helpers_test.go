package talk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// testTimeout bounds every wait of the tests, so that a hang fails the
// test instead of the run.
const testTimeout = 20 * time.Second

// A makePair returns two connected peers, a with aopts and b with bopts,
// closed at the end of the test.
type makePair func(t *testing.T, aopts, bopts []talk.Option) (a, b *talk.Peer)

// pairs are the connections the peer tests run over.
var pairs = []struct {
	name string
	make makePair
}{
	{"pipe", pipePair},
	{"tcp", listenPair("tcp://127.0.0.1:0", "tcp://%s")},
	{"ws", listenPair("ws://127.0.0.1:0/talk", "ws://%s/talk")},
}

// forEachPair runs test over each kind of pair.
func forEachPair(t *testing.T, test func(t *testing.T, mp makePair)) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) { test(t, p.make) })
	}
}

// pipePair connects two peers over qmux sessions on an in-memory pipe.
func pipePair(t *testing.T, aopts, bopts []talk.Option) (*talk.Peer, *talk.Peer) {
	t.Helper()
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := talk.NewPeer(sess1, aopts...)
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := talk.NewPeer(sess2, bopts...)
	t.Cleanup(func() { closePeers(t, a, b) })
	return a, b
}

// listenPair returns a makePair that listens on laddr and dials the
// listener's address formatted into daddr: a is the accepted peer, b the
// dialer.
func listenPair(laddr, daddr string) makePair {
	return func(t *testing.T, aopts, bopts []talk.Option) (*talk.Peer, *talk.Peer) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		ln, err := talk.Listen(ctx, laddr, aopts...)
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		defer ln.Close()
		type result struct {
			p   *talk.Peer
			err error
		}
		accepted := make(chan result, 1)
		go func() {
			p, err := ln.Accept(ctx)
			accepted <- result{p, err}
		}()
		b, err := talk.Dial(ctx, fmt.Sprintf(daddr, ln.Addr()), bopts...)
		if err != nil {
			ln.Close()
			<-accepted
			t.Fatalf("Dial: %v", err)
		}
		r := <-accepted
		if r.err != nil {
			b.Close()
			t.Fatalf("Accept: %v", r.err)
		}
		t.Cleanup(func() { closePeers(t, r.p, b) })
		return r.p, b
	}
}

// closePeers closes the peers, failing the test if that hangs.
func closePeers(t *testing.T, peers ...*talk.Peer) {
	t.Helper()
	for _, p := range peers {
		within(t, "Close", func() { p.Close() })
	}
}

// within runs f, failing the test if it does not return within
// testTimeout.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatalf("%s did not return within %v", what, testTimeout)
	}
}

// waitErr returns p.Wait(), failing the test if it does not return.
func waitErr(t *testing.T, p *talk.Peer) error {
	t.Helper()
	var err error
	within(t, "Wait", func() { err = p.Wait() })
	return err
}

// callCtx returns a context bounding a call.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
