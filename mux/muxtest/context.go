package muxtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// testAcceptContext checks that Accept returns the context's error when it
// is cancelled before or during the call or times out, and that cancelled
// Accepts take no channel away from later ones.
func testAcceptContext(t *testing.T, a, b mux.Session) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := await(t, "Accept with a cancelled context", func() error {
		_, err := a.Accept(cancelled)
		return err
	})
	checkPrompt(t, start, "Accept with a cancelled context")
	checkErr(t, err, "Accept with a cancelled context", context.Canceled)

	ctx, cancel := context.WithCancel(context.Background())
	pending := goErr(func() error {
		_, err := a.Accept(ctx)
		return err
	})
	assertBlocked(t, pending, "Accept with nothing opened")
	cancel()
	start = time.Now()
	err = recv(t, pending, "pending Accept to return after cancel")
	checkPrompt(t, start, "pending Accept after cancel")
	checkErr(t, err, "pending Accept after cancel", context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = await(t, "Accept with a context timing out", func() error {
		_, err := a.Accept(ctx)
		return err
	})
	checkErr(t, err, "Accept with a context timing out", context.DeadlineExceeded)

	// The next channel opened goes to the next Accept (pair checks this
	// with a tag).
	oc, ac := pair(t, b, a)
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
}

// testOpenContext checks Open with a cancelled context: it fails with the
// context's error and leaves no channel behind; and Opens racing with
// cancellation either succeed or fail cleanly, leaving the session usable.
func testOpenContext(t *testing.T, a, b mux.Session, o Options) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		start := time.Now()
		err := await(t, "Open with a cancelled context", func() error {
			c, err := a.Open(cancelled)
			if err == nil {
				c.Close()
				return errors.New("open succeeded")
			}
			return err
		})
		checkPrompt(t, start, "Open with a cancelled context")
		checkErr(t, err, "Open with a cancelled context", context.Canceled)
	}
	// pair fails if the first channel Accept returns is not the one it
	// opened, so any channel left behind by the cancelled Opens shows.
	oc, ac := pair(t, a, b)
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")

	// Opens racing with cancellation. Every channel that reaches b must end
	// with EOF: either its Open succeeded and it was closed, or its Open was
	// cancelled and the opener must not leave it open. A last channel
	// carrying a marker shows when b has seen all earlier ones. With
	// o.EarlyOpen, a successful Open does not mean that b has the channel,
	// so the opener also waits for b to close it (after b read EOF).
	var (
		handlers   sync.WaitGroup
		mu         sync.Mutex // guards stray
		stray      []error
		markerSeen = make(chan struct{})
	)
	const marker = "marker"
	stopAccept := acceptAll(b, &handlers, func(c mux.Channel) {
		defer c.Close()
		data, err := io.ReadAll(c)
		if err == nil && string(data) == marker {
			close(markerSeen)
			return
		}
		if err != nil || len(data) != 0 {
			mu.Lock()
			stray = append(stray, fmt.Errorf("accepted channel %d: read %q, then %v; want EOF", c.ID(), data, err))
			mu.Unlock()
		}
	})
	defer stopAccept()
	for i := range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			go cancel()
		} else {
			time.AfterFunc(time.Duration(i)*10*time.Microsecond, cancel)
		}
		var afterOpen error
		err := await(t, "Open racing with cancel", func() error {
			c, err := a.Open(ctx)
			if err != nil {
				return err
			}
			if o.EarlyOpen {
				afterOpen = closedByPeer(c)
			}
			return c.Close()
		})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Open racing with cancel: got %v, want success or an error matching %q", err, context.Canceled)
		}
		if afterOpen != nil {
			t.Errorf("a channel whose Open succeeded while racing with cancel: %v", afterOpen)
		}
	}
	ctx, cancel := stepContext()
	defer cancel()
	c, err := a.Open(ctx)
	if err != nil {
		t.Fatalf("Open after Opens racing with cancel: %v", err)
	}
	noErr(t, recv(t, writeAsync(c, []byte(marker)), "Write"), "Write")
	noErr(t, c.Close(), "Close")
	recv(t, markerSeen, "the peer accepting the marker channel")
	noErr(t, await(t, "stopping Accept", stopAccept), "Accept")
	recv(t, waitGroupDone(&handlers), "channels of cancelled or closed Opens to end with EOF")
	mu.Lock()
	for _, err := range stray {
		t.Error(err)
	}
	mu.Unlock()

	// The session still works both ways.
	oc, ac = pair(t, a, b)
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
	oc, ac = pair(t, b, a)
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
}

// closedByPeer half-closes c and reads it until the peer closes it too,
// which must come with no data.
func closedByPeer(c mux.Channel) error {
	if err := c.CloseWrite(); err != nil {
		return fmt.Errorf("CloseWrite: %w", err)
	}
	data, err := io.ReadAll(c)
	if err != nil || len(data) != 0 {
		return fmt.Errorf("read %q, then %v; want EOF", data, err)
	}
	return nil
}
