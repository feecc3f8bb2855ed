package grid

import (
	"context"

	"github.com/qtalkkit/qtalk/talk"
)

// SessionCount is the number of greeted sessions the manager holds.
func (m *Manager) SessionCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// ErrPingTimeout is the error that ends a link whose ping got no answer
// in time.
var ErrPingTimeout = errPingTimeout

// WrapPing makes m's pings call wrap with the call they would make; call
// it before Start.
func WrapPing(m *Manager, wrap func(ctx context.Context, call func(context.Context) error) error) {
	m.pingCall = func(ctx context.Context, p *talk.Peer) error {
		return wrap(ctx, func(ctx context.Context) error { return callPing(ctx, p) })
	}
}
