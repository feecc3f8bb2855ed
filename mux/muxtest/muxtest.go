package muxtest

import (
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/nettest"

	"github.com/qtalkkit/qtalk/mux"
)

// MakePair returns two connected sessions; stop closes both and releases
// their transport (listeners included). Run calls it once per case, and
// nettest.TestConn once per subtest of its own, from that subtest's
// goroutine. Everything MakePair starts must be gone once stop returns, or
// the case reports a goroutine leak.
type MakePair func(t testing.TB) (a, b mux.Session, stop func())

const (
	// stepTimeout bounds each step a case waits for (an Open, a Read, a
	// goroutine ending); exceeding it fails the case.
	stepTimeout = 30 * time.Second

	// caseTimeout bounds a whole case: past it the pair is stopped, which
	// unblocks whatever hangs.
	caseTimeout = 2 * time.Minute
)

// Options describe documented departures of an implementation from the
// mux.Session contract, so that the cases check what it does instead. The
// zero value checks the contract as written.
type Options struct {
	// EarlyOpen: Open returns before the peer has taken the channel,
	// without waiting for its answer, so channels opened one after
	// another may reach the peer's Accept in another order. Cases that
	// rely on that order have the peer answer on each channel (a round
	// trip) before the next is opened. (Such an Open reports a refusal
	// on the channel's first Read or Write instead: RunRefusal checks
	// that, on a pair the implementation sets up to refuse.)
	EarlyOpen bool

	// CloseLosesUnread: Session.Close may lose what the session's
	// channels wrote and the peer's application has not read yet when
	// the close reaches it (mux/quic), instead of delivering it first.
	// The peer's Reads then fail with an error matching
	// mux.ErrSessionClosed, never io.EOF, after a part of the data. The
	// Session must report it (mux.LossyCloser).
	CloseLosesUnread bool
}

// A testCase is one conformance check on the connected sessions a and b.
// Every case runs twice, the second time with a and b swapped, since each
// gives the two sessions different roles (opener, closer, ...).
type testCase struct {
	name string
	fn   func(t *testing.T, a, b mux.Session, o Options)
}

// anyOptions adapts a case that checks the same under every Options.
func anyOptions(fn func(t *testing.T, a, b mux.Session)) func(*testing.T, mux.Session, mux.Session, Options) {
	return func(t *testing.T, a, b mux.Session, _ Options) { fn(t, a, b) }
}

var cases = []testCase{
	{"OpenAccept", anyOptions(testOpenAccept)},
	{"Echo", anyOptions(testEcho)},
	{"ChannelIDs", anyOptions(testChannelIDs)},
	{"ManyChannels", anyOptions(testManyChannels)},
	{"LargeTransfer", anyOptions(testLargeTransfer)},
	{"ParallelTransfers", anyOptions(testParallelTransfers)},
	{"HalfClose", anyOptions(testHalfClose)},
	{"CloseUnblocksRead", anyOptions(testCloseUnblocksRead)},
	{"CloseUnblocksWrite", anyOptions(testCloseUnblocksWrite)},
	{"PeerCloseUnblocksWrite", anyOptions(testPeerCloseUnblocksWrite)},
	{"CloseDeliversData", anyOptions(testCloseDeliversData)},
	{"CloseHandshake", anyOptions(testCloseHandshake)},
	{"SessionCloseDelivery", testSessionCloseDelivery},
	{"WriteDone", anyOptions(testWriteDone)},
	{"ReadNotify", anyOptions(testReadNotify)},
	{"ReadDeadline", anyOptions(testReadDeadline)},
	{"WriteDeadline", anyOptions(testWriteDeadline)},
	{"SessionClose", testSessionClose},
	{"CloseWaits", anyOptions(testCloseWaits)},
	{"AcceptContext", anyOptions(testAcceptContext)},
	{"TryAccept", anyOptions(testTryAccept)},
	{"OpenContext", testOpenContext},
	{"Listener", anyOptions(testListener)},
	{"Independence", anyOptions(testIndependence)},
}

// Run runs every conformance case as a subtest of t, each on its own pair
// of sessions from mp, and then nettest.TestConn on channels of fresh pairs.
func Run(t *testing.T, mp MakePair) {
	RunOptions(t, mp, Options{})
}

// RunOptions is Run for an implementation that departs from the
// mux.Session contract as o describes.
func RunOptions(t *testing.T, mp MakePair, o Options) {
	for _, c := range cases {
		fn := func(t *testing.T, a, b mux.Session) { c.fn(t, a, b, o) }
		t.Run(c.name, func(t *testing.T) {
			t.Run("AB", func(t *testing.T) { runCase(t, mp, false, fn) })
			t.Run("BA", func(t *testing.T) { runCase(t, mp, true, fn) })
		})
	}
	t.Run("NetTestConn", func(t *testing.T) {
		t.Run("AB", func(t *testing.T) { runNettest(t, mp, false) })
		t.Run("BA", func(t *testing.T) { runNettest(t, mp, true) })
	})
}

// runCase runs fn on a fresh pair, stops the pair and checks that no
// goroutine outlives it.
func runCase(t *testing.T, mp MakePair, swap bool, fn func(t *testing.T, a, b mux.Session)) {
	ignore := goleak.IgnoreCurrent()
	a, b, stop := mp(t)
	if swap {
		a, b = b, a
	}
	var once sync.Once
	stopOnce := func() { once.Do(stop) }

	// The watchdog stops the pair if the case hangs. It is a goroutine
	// rather than time.AfterFunc so that it is known to be done (and not
	// about to call t.Errorf) before the case returns.
	finished := make(chan struct{})
	watchdogDone := make(chan struct{})
	go func() {
		defer close(watchdogDone)
		timer := time.NewTimer(caseTimeout)
		defer timer.Stop()
		select {
		case <-finished:
		case <-timer.C:
			t.Errorf("case still running after %v; stopping the pair", caseTimeout)
			stopOnce()
		}
	}()
	defer func() {
		close(finished)
		<-watchdogDone
		stopOnce()
		goleak.VerifyNone(t, ignore)
	}()
	fn(t, a, b)
}

// runNettest runs nettest.TestConn on channels opened by a and accepted by
// b, each on a fresh pair.
func runNettest(t *testing.T, mp MakePair, swap bool) {
	ignore := goleak.IgnoreCurrent()
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b, stopPair := mp(t)
		if swap {
			a, b = b, a
		}
		ctx, cancel := stepContext()
		defer cancel()
		oc, ac, err := openAccept(ctx, a, b)
		if err != nil {
			stopPair()
			return nil, nil, nil, err
		}
		return oc, ac, func() {
			oc.Close()
			ac.Close()
			stopPair()
		}, nil
	})
	goleak.VerifyNone(t, ignore)
}
