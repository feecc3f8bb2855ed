package talk

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// A Peer calls and serves over one mux.Session: its calls open channels
// on the session, and the channels the other side opens are calls it
// serves. Its methods are safe for concurrent use.
type Peer struct {
	sess    mux.Session
	client  *rpc.Client
	handler rpc.Handler     // what the server serves, as given
	mux     *rpc.RespondMux // handler if it is a RespondMux, else nil
	srv     rpc.Server

	ctx    context.Context // cancelled once the session has ended
	cancel context.CancelCauseFunc
	done   chan struct{} // closed once the session has ended and every handler returned

	closeOnce sync.Once
	closeErr  error // the session's Close error; written in closeOnce

	re       *redialer                          // WithReconnect's; then the fields above the handler's are nil
	calls    sync.WaitGroup                     // calls of a reconnecting peer over this session (redialer.acquire)
	onDrain  func(ctx context.Context, p *Peer) // answers LabelDrain for a reconnecting peer, or nil
	draining atomic.Bool                        // Shutdown began: calls are refused
}

// NewPeer starts serving calls on sess and returns the peer that calls
// over it too. The peer owns sess: Close closes it. Transport options are
// ignored.
func NewPeer(sess mux.Session, opts ...Option) *Peer {
	return newPeer(sess, newOptions(opts))
}

func newPeer(sess mux.Session, o *options) *Peer {
	var copts []rpc.ClientOption
	if o.maxFrameSize > 0 {
		copts = append(copts, rpc.WithMaxFrameSize(o.maxFrameSize))
	}
	copts = append(copts, o.clientOpts...)
	p := &Peer{
		sess:    sess,
		client:  rpc.NewClient(sess, copts...),
		handler: o.handler,
		done:    make(chan struct{}),
	}
	if p.handler == nil {
		p.handler = rpc.NewRespondMux()
	}
	p.mux, _ = p.handler.(*rpc.RespondMux)
	p.onDrain = o.onDrain
	p.srv.Handler = rpc.HandlerFunc(p.respond)
	p.srv.MaxFrameSize = o.maxFrameSize
	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	go p.serve()
	return p
}

// serve serves the session until it ends, then waits for the handlers in
// flight, which the end of the session has cancelled.
func (p *Peer) serve() {
	defer close(p.done)
	err := p.srv.ServeSession(p.sess) // returns once the session has ended, or drained
	if errors.Is(err, rpc.ErrServerClosed) {
		p.sess.Wait() // Shutdown closes it next
		err = mux.ErrSessionClosed
	}
	p.cancel(err)
	p.srv.Shutdown(context.Background()) // waits for the handlers
}

// respond serves a call with the peer's handler, but LabelPing, which
// every peer answers itself. Callbacks through Call.Caller go through the
// peer's client, with its options.
func (p *Peer) respond(r rpc.Responder, c *rpc.Call) {
	c.Caller = p.client
	switch {
	case p.draining.Load():
		r.Error(errShuttingDown)
		return
	case c.FullSelector == LabelPing:
		servePing(r, c)
		return
	case c.FullSelector == LabelDrain:
		p.serveDrain(r, c)
		return
	}
	p.handler.RespondRPC(r, c)
}

// Call calls selector on the other side with args and decodes the reply
// into reply; see rpc.Client.Call. Once the session has ended, calls fail
// with an error that matches mux.ErrSessionClosed (rpc.CodeOf reports
// rpc.CodeUnavailable).
func (p *Peer) Call(ctx context.Context, selector string, args, reply any, opts ...rpc.CallOption) (*rpc.Response, error) {
	if p.re == nil {
		return p.client.Call(ctx, selector, args, reply, opts...)
	}
	var resp *rpc.Response
	err := p.do(ctx, func(cur *Peer) (err error) {
		resp, err = cur.client.Call(ctx, selector, args, reply, opts...)
		return err
	})
	return resp, err
}

// Send sends v to selector on the other side as a one-way message: its
// handler runs, nothing answers, and Send does not wait for it; see
// rpc.Client.Send for the order, flow control and what a sender learns.
func (p *Peer) Send(ctx context.Context, selector string, v any) error {
	if p.re == nil {
		return p.client.Send(ctx, selector, v)
	}
	cur, err := p.re.acquire(ctx)
	if err != nil {
		return err
	}
	defer cur.calls.Done()
	return cur.client.Send(ctx, selector, v)
}

// Client returns the rpc client the peer calls with. For a reconnecting
// peer, it is that of its latest session, whose calls fail once the
// session ended: Peer.Call and the other methods of the peer go over the
// session of the moment, and wait for one or send a refused call again.
func (p *Peer) Client() *rpc.Client {
	if p.re != nil {
		return p.re.latest().client
	}
	return p.client
}

// Session returns the session the peer calls and serves over: for a
// reconnecting peer, its latest session, which may have ended.
func (p *Peer) Session() mux.Session {
	if p.re != nil {
		return p.re.latest().sess
	}
	return p.sess
}

// Mux returns the RespondMux the peer serves, or nil if WithHandler gave
// it a handler of another kind.
func (p *Peer) Mux() *rpc.RespondMux { return p.mux }

// Handle registers h for pattern on the peer's Mux (see
// rpc.RespondMux.Handle). Like that method, it panics on a pattern that
// is empty or taken, and also when the peer serves a handler that is not
// a RespondMux: each is a programming error. The peer serves from the
// start, so a call that arrives before its handler is registered fails
// with rpc.CodeNotFound; to serve from the first call, register on a mux
// given with WithHandler.
func (p *Peer) Handle(pattern string, h rpc.Handler) {
	if p.mux == nil {
		panic("talk: Handle on a peer whose handler is not an *rpc.RespondMux")
	}
	p.mux.Handle(pattern, h)
}

// HandleFunc registers f for pattern on the peer's Mux, like Handle.
func (p *Peer) HandleFunc(pattern string, f func(rpc.Responder, *rpc.Call)) {
	p.Handle(pattern, rpc.HandlerFunc(f))
}

// Context returns a context that is cancelled once the session has ended;
// context.Cause then reports the session's error (matching
// mux.ErrSessionClosed). Handlers may still be returning at that point;
// Wait waits for them. A reconnecting peer's context ends at Close.
func (p *Peer) Context() context.Context { return p.ctx }

// Close closes the session, which ends the calls in both directions and
// cancels the contexts of the handlers in flight, and waits until every
// handler has returned and the session's goroutines have exited (for an
// exec address, until the child was killed and reaped). It returns the session's Close error; later calls
// return the same.
//
// A handler of the peer must not call Close, which would wait for the
// handler itself: it can close the Session instead, which ends the peer
// the same way without waiting.
func (p *Peer) Close() error {
	if p.re != nil {
		p.cancel(errPeerClosed)
		<-p.done
		return nil
	}
	p.closeOnce.Do(func() { p.closeErr = p.sess.Close() })
	<-p.done
	p.sess.Wait() // nil after Close, unless the session had ended before
	return p.closeErr
}

// Wait waits until the session has ended and every handler has returned,
// and reports why the session ended (mux.Session.Wait): nil after a local
// Close, otherwise the error that ended it. When the other side closed
// the connection, that is io.EOF or the error of a write the close cut
// short, depending on which this side noticed first; for a peer dialed at
// an exec address, it is io.EOF if the child exited with status 0 and an
// error wrapping the *exec.ExitError otherwise.
func (p *Peer) Wait() error {
	<-p.done
	if p.re != nil {
		return nil
	}
	return p.sess.Wait()
}
