package qmux

import (
	"sync"
	"testing"
	"time"
)

// TestSessionTimerArm: an arm due sooner than the armed run brings it
// forward, one due later is served by it, and the timer holds one count of
// the wait group per run to come, so that Close's wait ends with the runs.
func TestSessionTimerArm(t *testing.T) {
	var wg sync.WaitGroup
	var mu sync.Mutex // the owner's lock
	var st sessionTimer
	runs := make(chan struct{}, 2)
	st.init(&wg, func() {
		mu.Lock()
		st.fired()
		mu.Unlock()
		runs <- struct{}{}
	})
	mu.Lock()
	now := time.Now()
	st.arm(now, time.Hour)
	st.arm(now, time.Millisecond) // brought forward
	st.arm(now, time.Hour)        // served by the run due in a millisecond
	mu.Unlock()
	select {
	case <-runs:
	case <-time.After(10 * time.Second):
		t.Fatal("the run brought forward to a millisecond has not come after 10s")
	}
	waitGroupDone(t, &wg, "the run's count")
	select {
	case <-runs:
		t.Fatal("the timer ran twice for arms served by one run")
	default:
	}

	mu.Lock()
	st.arm(time.Now(), time.Hour)
	st.stop()
	mu.Unlock()
	waitGroupDone(t, &wg, "the stopped run's count")
}

// waitGroupDone fails the test if wg does not reach zero within 10s.
func waitGroupDone(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the wait group still counts %s after 10s", what)
	}
}
