//go:build browser

package jsinterop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport"
)

// sessionEnded is the line the TypeScript qmux peer logs for each session
// that ended with an error, with the error's message.
var sessionEnded = regexp.MustCompile(`session ended: (.*)`)

// startQmuxPeer starts the TypeScript qmux peer (node
// js/dist/interop/qmux-peer.js listen ADDR), which echoes every channel of
// every session it accepts on a tcp port: it writes back the bytes it
// reads, half-closes after echoing everything when the other side
// half-closes, and closes when it closes. It returns the peer and its
// address.
func startQmuxPeer(t *testing.T) (*child, string) {
	t.Helper()
	peer := startNode(t, false, "interop/qmux-peer.js", "listen", "tcp://127.0.0.1:0")
	return peer, peer.listening(t)
}

// dialSession dials addr for the test, which closes the session.
func dialSession(t *testing.T, addr string, opts ...transport.Option) mux.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	sess, err := transport.Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// pattern returns n bytes that differ with seed.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// roundTrip opens a channel on sess, writes payload and half-closes while
// it reads the echo, and checks that the echo is payload (by SHA-256) and
// then ends.
func roundTrip(ctx context.Context, sess mux.Session, payload []byte) error {
	ch, err := sess.Open(ctx)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer ch.Close()
	wrote := make(chan error, 1)
	go func() {
		_, err := ch.Write(payload)
		if err == nil {
			err = ch.CloseWrite()
		}
		wrote <- err
	}()
	h := sha256.New()
	n, rerr := readWithin(ctx, ch, h)
	if rerr != nil {
		ch.Close() // unblocks the write
	}
	if werr := <-wrote; werr != nil {
		return fmt.Errorf("channel %d: write: %w", ch.ID(), werr)
	}
	if rerr != nil {
		return fmt.Errorf("channel %d: read after %d bytes: %w", ch.ID(), n, rerr)
	}
	if want := sha256.Sum256(payload); n != int64(len(payload)) || !bytes.Equal(h.Sum(nil), want[:]) {
		return fmt.Errorf("channel %d: the echo of %d bytes is %d bytes with another SHA-256", ch.ID(), len(payload), n)
	}
	return nil
}

// readWithin copies ch to w until ch's end, or until ctx is done.
func readWithin(ctx context.Context, ch mux.Channel, w io.Writer) (int64, error) {
	stop := context.AfterFunc(ctx, func() { ch.SetReadDeadline(time.Now()) })
	defer stop()
	return io.Copy(w, ch)
}

// roundTrips runs a roundTrip of size bytes on n channels at once, the
// payload of each its own.
func roundTrips(ctx context.Context, sess mux.Session, n, size int) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = roundTrip(ctx, sess, pattern(i, size)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Go drives the TypeScript qmux peer: many channels at once, a bulk
// transfer, half-closes both ways, a slow reader that stalls only its own
// channel, and a session closed mid-transfer, after which the peer goes on
// serving new sessions.
func TestGoDrivesTypeScriptQmux(t *testing.T) {
	_, addr := startQmuxPeer(t)
	sess := dialSession(t, addr)

	t.Run("channels-100", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if err := roundTrips(ctx, sess, 100, 64<<10); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("transfer-8mb", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if err := roundTrip(ctx, sess, pattern(8, 8_000_000)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("half-close", func(t *testing.T) {
		// A window of 16 KiB lets the peer echo that much before the test
		// reads: the rest of the 64 KiB can only come after the test's
		// half-close, so the peer must go on writing after it.
		small := dialSession(t, addr, transport.WithSessionConfig(&qmux.Config{WindowSize: 16 << 10, MaxPacketSize: 16 << 10}))
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		ch, err := small.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Close()
		payload := pattern(2, 64<<10)
		if _, err := ch.Write(payload); err != nil {
			t.Fatal(err)
		}
		if err := ch.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Write([]byte("x")); !errors.Is(err, mux.ErrChannelClosed) {
			t.Errorf("a write after CloseWrite: %v, want mux.ErrChannelClosed", err)
		}
		var echo bytes.Buffer
		if _, err := readWithin(ctx, ch, &echo); err != nil {
			t.Fatalf("reading the echo after %d bytes: %v", echo.Len(), err)
		}
		if !bytes.Equal(echo.Bytes(), payload) {
			t.Fatalf("the echo is %d bytes, not the %d written", echo.Len(), len(payload))
		}
	})

	t.Run("slow-reader", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		a, err := sess.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		// A's echo is never read: the peer's echo of A blocks on A's
		// window, then the peer stops reading A, and the write blocks.
		const stalled = 4 << 20
		wrote := make(chan error, 1)
		go func() {
			_, err := a.Write(pattern(3, stalled))
			wrote <- err
		}()
		if err := roundTrips(ctx, sess, 10, 64<<10); err != nil {
			t.Fatalf("with channel A stalled: %v", err)
		}
		select {
		case err := <-wrote:
			t.Fatalf("A's write of %d bytes returned (%v) while its echo was not read: the peer took more than its window", stalled, err)
		default:
		}
		a.Close()
		select {
		case err := <-wrote:
			if err == nil {
				t.Fatal("A's blocked write succeeded after A was closed")
			}
		case <-ctx.Done():
			t.Fatal("A's blocked write did not return after A was closed")
		}
		if err := roundTrip(ctx, sess, pattern(4, 1<<10)); err != nil {
			t.Fatalf("after A was closed: %v", err)
		}
	})

	t.Run("close-mid-transfer", closeMidTransfer)
}

// closeMidTransfer closes a session of a peer of its own while a channel
// transfers both ways, and checks that the peer serves the next session.
//
// The peer logs the end of a session only if it ended with an error, and
// a session closed between messages ends without one; whether the peer's
// read or its write notices the end first is a race. So the test does
// not wait for a log line, but logs the peer's stderr if it fails.
func closeMidTransfer(t *testing.T) {
	_, addr := startQmuxPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	ts, err := transport.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	ch, err := ts.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := ch.Write(pattern(5, 16<<20)) // more than the echo read and the windows
		wrote <- err
	}()
	if _, err := io.CopyN(io.Discard, ch, 1<<20); err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	ts.Close()
	select {
	case err := <-wrote:
		if err == nil {
			t.Fatal("the write of 16 MiB succeeded although the session was closed")
		}
	case <-ctx.Done():
		t.Fatal("the write did not return after the session was closed")
	}

	next := dialSession(t, addr)
	if err := roundTrip(ctx, next, pattern(6, 64<<10)); err != nil {
		t.Fatalf("a session after the closed one: %v", err)
	}
}

// The TypeScript driver (node js/dist/interop/qmux-peer.js drive ADDR)
// runs its scenarios against a Go echo server over tcp and ws: 100
// channels at once, 8 MB, half-close, a slow reader, and the Go side
// closing the session on a close-session channel. Node's start and each
// scenario have a guard of their own.
func TestTypeScriptDrivesGoQmux(t *testing.T) {
	scenarios := []string{"channels-100", "transfer-8mb", "half-close", "slow-reader", "peer-closes"}
	for _, addr := range []string{"tcp://127.0.0.1:0", "ws://127.0.0.1:0/qmux"} {
		t.Run(strings.Split(addr, ":")[0], func(t *testing.T) {
			target, echo := listenEcho(t, addr)
			drive := startRun(t, "interop/qmux-peer.js", "drive", target)
			drive.awaitSteps(t, scenarios)
			status := drive.awaitExit(t, "after its last step")
			out := drive.stdout.text()
			if status != 0 {
				t.Errorf("drive %s exited with status %d, want 0", target, status)
			}
			for _, name := range scenarios {
				if !regexp.MustCompile(`(?m)^PASS ` + regexp.QuoteMeta(name) + `$`).MatchString(out) {
					t.Errorf("no PASS line for %s", name)
				}
			}
			// 100 + 1 + 1 + (1 + 10) + 1 channels at least.
			if n := echo.channels.Load(); n < 114 {
				t.Errorf("the Go side accepted %d channels, want at least 114", n)
			}
			if n := echo.closeRequests.Load(); n != 1 {
				t.Errorf("the Go side closed %d sessions for a %s channel, want 1", n, closeSession)
			}
		})
	}
}
