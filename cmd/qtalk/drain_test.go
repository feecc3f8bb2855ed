package main_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/talk"
)

// qtalk serve restarted with SIGTERM while a reconnecting client calls
// at concurrency 4: the old server drains (new calls refused as not run,
// the client told with qtalk:drain), the new one listens on the same
// address, and not one call fails.
func TestServeDrainRestartFailsNoCall(t *testing.T) {
	t.Parallel()
	s1 := serve(t)
	addr := s1.tcp
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	p, err := talk.Dial(ctx, addr, talk.WithReconnect(talk.ReconnectConfig{
		MinWait: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond, WaitForSession: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	var (
		stop     atomic.Bool
		done     atomic.Int64
		progress = make(chan struct{}, 1)
		failed   = make(chan error, 4)
		wg       sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				var got string
				if _, err := p.Call(ctx, "echo:echo", "hi", &got); err != nil || got != "hi" {
					failed <- errors.Join(err, errors.New("reply "+got))
					return
				}
				done.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
		close(failed)
		for err := range failed {
			t.Errorf("call: %v", err)
		}
	}()
	calls := func(n int64, what string) {
		t.Helper()
		target := done.Load() + n
		timer := time.NewTimer(testTimeout)
		defer timer.Stop()
		for done.Load() < target {
			select {
			case <-progress:
			case err := <-failed:
				t.Fatalf("call: %v", err)
			case <-timer.C:
				t.Fatalf("timed out waiting for calls %s", what)
			}
		}
	}

	calls(50, "to the first server")
	stopped, stopDone := make(chan int, 1), make(chan struct{})
	go func() { // SIGTERM, then a wait for the exit
		defer close(stopDone)
		stopped <- s1.stop(t)
	}()
	t.Cleanup(func() { <-stopDone }) // before serve's cleanup stops it again
	// Logged once the listeners are closed (the line before it, with the
	// signal as the reason, comes earlier).
	s1.waitLines(t, 1, func(l string) bool { return strings.Contains(l, "shutting down") && strings.Contains(l, "calls=") })
	serveArgs(t, "serve", "--listen", addr, "--listen", "ws://127.0.0.1:0/qtalk")
	calls(50, "to the second server")
	select {
	case code := <-stopped:
		if code != 0 {
			t.Errorf("the first qtalk serve exited with status %d\n%s", code, s1.log())
		}
	case <-time.After(testTimeout):
		t.Fatalf("the first qtalk serve did not exit\n%s", s1.log())
	}
	calls(50, "after the first server exited")
}
