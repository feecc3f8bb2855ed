package service_test

import (
	"errors"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/talk"
)

// A server restarted with Shutdown (as qtalk serve does on SIGTERM) while
// a reconnecting client keeps calling at concurrency 4: not one call
// fails. The stream in flight during the drain goes on over the old
// session to its end; the calls the old server would not begin are
// refused, and go over the session to the new one.
func TestShutdownRestartFailsNoCall(t *testing.T) {
	addr := "unix://" + filepath.Join(t.TempDir(), "s")
	cfg := `listen = "` + addr + `"

[services]
chat = { provider = "local", module = "example.net/chat", options = { greeting = "hi" } }
`
	srv1, logs := startServer(t, cfg)
	p, err := talk.Dial(testCtx(t), addr, talk.WithReconnect(talk.ReconnectConfig{
		MinWait: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond, WaitForSession: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stream, err := p.Call(testCtx(t), "chat:echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	echo(t, stream, 1)

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
				if got, err := call(t, p, "chat:whoami", nil); err != nil || got != "chat p= hi" {
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
	// calls waits until the workers made n more calls.
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

	calls(20, "to the first server")
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv1.Shutdown(testCtx(t)) }()
	logs.waitCount(t, "shutting down", 1) // not listening any more
	startServer(t, cfg)
	calls(20, "to the second server")
	// The stream began before the drain: it goes on, and holds it.
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v with a stream in flight", err)
	default:
	}
	echo(t, stream, 2)
	stream.CloseSend()
	if err := stream.Receive(nil); err != io.EOF {
		t.Errorf("the end of the stream in flight: %v, want io.EOF", err)
	}
	stream.Close() // the server waits for it to close the drained session
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	calls(20, "after the first server closed")
}
