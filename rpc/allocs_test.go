package rpc_test

import (
	"context"
	"testing"
)

// maxUnaryAllocs bounds the heap allocations of a unary call of 64 bytes
// over qmux on TCP, client and server together, with the handler and the
// caller of the bench harness (bench/rpcsystems.go: echoBytes and a reply
// variable per call). Those two take 6 of them: the arguments and the
// reply boxed in interfaces, the decoded byte strings and the variables
// that hold them; qmux's two channels, the server's call and the client's
// Response are the rest. (Issue 14 wants 8.) Allocation counts are
// deterministic enough for a test.
const maxUnaryAllocs = 10

func TestUnaryAllocs(t *testing.T) {
	h := startFunc(t, tcp, echoBytes)
	payload := make([]byte, 64)
	ctx := context.Background()
	call := func() {
		var reply []byte
		if _, err := h.client.Call(ctx, "echo", payload, &reply); err != nil {
			t.Fatal(err)
		}
	}
	call() // the first call fills the channels opened ahead and the caches
	limit := float64(maxUnaryAllocs)
	if raceEnabled {
		limit += 2 // the buffers sync.Pool dropped (four pooled per call)
	}
	if n := testing.AllocsPerRun(2000, call); n > limit {
		t.Errorf("%.1f allocations per unary call, want at most %.0f (race detector: %v)", n, limit, raceEnabled)
	}
}
