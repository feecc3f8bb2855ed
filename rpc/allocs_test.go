package rpc_test

import (
	"context"
	"testing"
)

// maxUnaryAllocs bounds the heap allocations of a unary call of 64 bytes
// over qmux on TCP, client and server together, with the handler and the
// caller of the bench harness (bench/rpcsystems.go: echoBytes, and a reply
// variable that each caller keeps from call to call). Those two take 4 of
// them: the arguments boxed in an interface, and in the handler its
// variable, the decoded byte string and the result boxed; qmux's two
// channels and the server's call are the rest (the client's Response is
// recycled). (Issue 14 wants 8.) Allocation counts are deterministic
// enough for a test.
const maxUnaryAllocs = 7

func TestUnaryAllocs(t *testing.T) {
	h := startFunc(t, tcp, echoBytes)
	payload := make([]byte, 64)
	ctx := context.Background()
	var reply []byte
	call := func() {
		if _, err := h.client.Call(ctx, "echo", payload, &reply); err != nil {
			t.Fatal(err)
		}
	}
	call() // the first call fills the channels opened ahead and the caches
	limit := float64(maxUnaryAllocs)
	if raceEnabled {
		limit += 2 // what sync.Pool dropped (five things pooled per call)
	}
	if n := testing.AllocsPerRun(2000, call); n > limit {
		t.Errorf("%.1f allocations per unary call, want at most %.0f (race detector: %v)", n, limit, raceEnabled)
	}
}
