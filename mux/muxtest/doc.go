// Package muxtest is a conformance suite for implementations of
// mux.Session, in the spirit of golang.org/x/net/nettest.TestConn.
//
// # Use
//
// An implementation's test file provides a MakePair that returns two
// connected sessions and runs the whole suite with one call:
//
//	func TestConformance(t *testing.T) {
//		muxtest.Run(t, func(t testing.TB) (a, b mux.Session, stop func()) {
//			c1, c2 := pipe.New()
//			sa, err := qmux.New(c1, nil)
//			if err != nil {
//				t.Fatal(err)
//			}
//			sb, err := qmux.New(c2, nil)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return sa, sb, func() {
//				sa.Close()
//				sb.Close()
//				sa.Wait()
//				sb.Wait()
//			}
//		})
//	}
//
// Run the suite once per transport (an in-memory pipe, loopback TCP, ...)
// and under the race detector. An implementation that departs from the
// mux.Session contract in a documented way, such as an Open that returns
// before the peer has answered, runs RunOptions with Options saying so.
//
// # What it checks
//
// Every case is a subtest with a fresh pair of sessions, and fails if it
// leaves goroutines behind once the pair is stopped (go.uber.org/goleak).
// Every case runs twice, as AB and BA, with the roles of the two sessions
// (opener and acceptor, closer and peer) swapped. The cases cover: open
// and accept, echo, channel IDs, a thousand concurrent channels, large
// transfers checked by SHA-256, half-close, Close unblocking Read and
// Write, WriteDone (every channel must be a mux.WriteDoneChannel),
// NotifyRead (on channels that are mux.ReadNotifiers; others pass it),
// deadlines, session close (and that Close waits for the session's own
// goroutines), context cancellation, mux.Listener under net/http,
// independence of channels under flow control, and nettest.TestConn on
// channel pairs.
//
// How to make a session refuse opens is up to each implementation, so
// RunRefusal, which checks how a refused open is reported (an error
// matching mux.ErrOpenRejected, from Open or, for an early open, from the
// channel's Reads and Writes), takes a pair whose acceptor has an accept
// backlog of one; every implementation runs it too.
//
// The suite assumes no window size: to block a writer it keeps writing,
// without the peer reading, until it has written far more than any sane
// window (64 MiB) or stops making progress.
//
// # Timeouts
//
// A step that does not finish within 30 seconds fails its case, and a case
// still running after two minutes is stopped, so a hung implementation
// reports which step hung instead of stalling the whole test binary.
package muxtest
