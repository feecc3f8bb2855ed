package service_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/service"
)

// maxGatewayAllocs bounds the heap allocations a gateway adds to a unary
// call (the calls through it less the same calls straight to its
// upstream): the gateway's call and its two qmux channels (the client's
// and the upstream's), the forwarder, its hook on the call's context, the
// watch of the client's channel that hook starts, the reports to the
// breakers and the upstream's selector. They are paid on every call.
const maxGatewayAllocs = 14

// startGateway starts an upstream and a gateway forwarding guild to it,
// both logging at the default level as qtalk serve does, and dials both.
func startGateway(t testing.TB) (through, direct *talk.Peer) {
	quiet := service.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	up, _ := startServer(t, upstreamConfig("127.0.0.1:0"), quiet)
	gw, _ := startServer(t, gatewayConfig(up.Addrs()[0].String(), ""), quiet)
	return dial(t, addrOf(gw)), dial(t, addrOf(up))
}

func TestGatewayAllocs(t *testing.T) {
	through, direct := startGateway(t)
	ctx := context.Background() // no deadline: no timers
	allocs := func(p *talk.Peer, sel string) float64 {
		var s string
		call := func() {
			if _, err := p.Call(ctx, sel, nil, &s); err != nil {
				t.Fatal(err)
			}
		}
		call() // fills the channels opened ahead and the caches
		return testing.AllocsPerRun(2000, call)
	}
	added := allocs(through, "guild:whoami") - allocs(direct, "guild-service:whoami")
	limit := float64(maxGatewayAllocs)
	if raceEnabled {
		limit += 4 // what sync.Pool dropped
	}
	if added > limit {
		t.Errorf("a gateway adds %.1f allocations to a unary call, want at most %.0f (race detector: %v)", added, limit, raceEnabled)
	}
}

// BenchmarkGatewayUnary calls through a gateway forwarding to an upstream
// in the same process, as qtalk serve --config does: the allocations per
// call are the three ends'.
func BenchmarkGatewayUnary(b *testing.B) {
	through, _ := startGateway(b)
	ctx := testCtx(b)
	var s string
	b.ReportAllocs()
	for b.Loop() {
		if _, err := through.Call(ctx, "guild:whoami", nil, &s); err != nil {
			b.Fatal(err)
		}
	}
}
