package talk

import (
	"context"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// LabelDrain is the built-in label a peer calls on the other side when
// it begins to shut down gracefully (Peer.Shutdown): it takes no new
// call from it on this session. The other side answers once no call of
// its own is on its way over the session any more: a reconnecting peer
// first sends its calls over a session of its own (redialing) and waits
// for those it sent before; any other peer answers at once. The answer
// is null; peers that do not know the label answer not_found, which
// does as well (spec/labels.md, section 6).
const LabelDrain = "qtalk:drain"

// DrainNoticeTimeout bounds how long Shutdown waits for the other side's
// answer to LabelDrain: a session whose other side does not serve calls
// at all (an rpc.Client alone) never answers.
const DrainNoticeTimeout = 5 * time.Second

// errShuttingDown refuses the calls that reach a peer that shuts down.
var errShuttingDown = rpc.Refuse("the peer is shutting down")

// serveDrain answers LabelDrain.
func (p *Peer) serveDrain(r rpc.Responder, c *rpc.Call) {
	if err := c.Receive(nil); err != nil {
		r.Error(err)
		return
	}
	if p.onDrain != nil {
		p.onDrain(c.Context(), p)
	}
	r.Return(nil)
}

// Shutdown ends the peer gracefully (spec/rpc.md, "Draining"): it refuses
// the calls the other side starts from now on (rpc.ErrRefused: they did
// not run, and a reconnecting peer sends them over its next session),
// tells the other side with LabelDrain and waits for its answer (at most
// DrainNoticeTimeout), lets the calls in flight finish, and closes the
// session. If ctx ends first, it closes the session at once, which cuts
// the calls still in flight short, and returns ctx's error. A
// reconnecting peer's Shutdown is its Close.
func (p *Peer) Shutdown(ctx context.Context) error {
	if p.re != nil {
		return p.Close()
	}
	p.draining.Store(true)
	notice, cancel := context.WithTimeout(ctx, DrainNoticeTimeout)
	p.client.Call(notice, LabelDrain, nil, nil) // any answer will do, or none in time
	cancel()
	p.srv.Shutdown(ctx) // lets the calls in flight finish
	p.Close()
	return ctx.Err()
}

// drainedSession is the onDrain of the peers of a reconnecting peer's
// sessions: it moves the calls to a session of their own and waits for
// those that went over cur, within ctx.
func (r *redialer) drainedSession(ctx context.Context, cur *Peer) {
	r.drained(ctx, cur)
	done := make(chan struct{})
	go func() {
		cur.calls.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
