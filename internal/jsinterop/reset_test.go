//go:build browser

package jsinterop

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
)

// resetGuard bounds how long the TypeScript peer may take to notice that
// the connection is gone: a guard, far above the milliseconds it takes.
const resetGuard = 5 * time.Second

// A connection reset under a session while one of its channels is stalled
// ends the session on both sides, promptly and with an error. The Go side
// writes 16 MiB on a channel and reads only 1 MiB of the echo, so the
// TypeScript peer's echo waits for the Go side's window and the Go write
// for the peer's; then it closes its socket out from under the session
// with SO_LINGER 0. The peer must log the end of its session with the
// reset within resetGuard, and the Go write must fail.
//
// Node reports a reset that arrives with data not yet read (a window
// grant still under way, here) as the end of the stream, no 'error':
// before the Conn over a socket asked whether the end was a reset, the
// peer's session then ended as if the Go side had closed it cleanly, and
// logged nothing (in one session of 10 to 60): so each run resets
// several sessions, one after the other. "close" closes the socket without
// the reset: the Go write fails the same, and the peer's session ends as
// the stream does, cleanly between messages.
func TestResetWhileStalled(t *testing.T) {
	const sessions = 8
	for _, mode := range []string{"reset", "close"} {
		t.Run(mode, func(t *testing.T) {
			peer, addr := startQmuxPeer(t)
			for range sessions {
				resetWhileStalled(t, peer, addr, mode == "reset")
			}
		})
	}
}

// resetWhileStalled runs one session of TestResetWhileStalled.
func resetWhileStalled(t *testing.T, peer *child, addr string, reset bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", tcpHost(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	conn := nc.(*net.TCPConn)
	if reset {
		if err := conn.SetLinger(0); err != nil {
			t.Fatal(err)
		}
	}
	sess, err := qmux.New(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ch, err := sess.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := ch.Write(pattern(7, 16<<20)) // more than the echo read and both windows
		wrote <- err
	}()
	if _, err := io.CopyN(io.Discard, ch, 1<<20); err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	conn.Close() // out from under the session, as a vanished peer would

	select {
	case err := <-wrote:
		if err == nil {
			t.Fatal("the write of 16 MiB succeeded although the connection was closed")
		}
	case <-time.After(resetGuard):
		t.Fatalf("the Go write blocked on the window did not return within %v of closing the connection", resetGuard)
	}
	if err := sess.Wait(); err == nil {
		t.Error("the Go session ended without an error although its connection was closed under it")
	}
	if !reset {
		return
	}
	m := peer.awaitWithin(t, sessionEnded, resetGuard)
	if !strings.Contains(m[1], "ECONNRESET") {
		t.Errorf("the peer's session ended with %q, want the connection reset (ECONNRESET)", m[1])
	}
}
