package talk

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/qtalkkit/qtalk/transport"
)

// Dial connects to addr (see transport.ParseAddress) and returns a peer
// over the session. The ctx bounds connecting only; the peer outlives it.
//
// An exec address ("exec:cmd args") starts the command as a child process
// and talks over its stdin and stdout; the child talks back with
// Dial(ctx, "stdio:"). Each side can then call the other.
//
// With WithReconnect, Dial makes the first session (failing as without
// it) and the peer redials in the background whenever a session ends.
//
// The session probes a server it has heard nothing from for 15 s and
// ends if the server does not answer within 15 s more (qmux's and
// mux/quic's KeepAlivePeriod and KeepAliveTimeout, set with
// WithTransportOptions): the calls pending on a server that went silent
// fail with unavailable. spec/limits.md lists these defaults.
func Dial(ctx context.Context, addr string, opts ...Option) (*Peer, error) {
	o := newOptions(opts)
	sess, err := transport.Dial(ctx, addr, o.transport...)
	if err != nil {
		return nil, fmt.Errorf("talk: %w", err)
	}
	if o.reconnect != nil {
		return dialReconnecting(addr, sess, o), nil
	}
	return newPeer(sess, o), nil
}

// A Listener accepts peers on a transport listener.
type Listener struct {
	ln   transport.Listener
	opts *options
}

// Listen listens on addr (see transport.ParseAddress) for peers, which
// are configured with opts. The ctx bounds setting up the listener only.
func Listen(ctx context.Context, addr string, opts ...Option) (*Listener, error) {
	o := newOptions(opts)
	ln, err := transport.Listen(ctx, addr, o.transport...)
	if err != nil {
		return nil, fmt.Errorf("talk: %w", err)
	}
	return &Listener{ln: ln, opts: o}, nil
}

// Accept waits for the next peer, until ctx is done or the listener is
// closed (then the error matches net.ErrClosed). The peer belongs to the
// caller, who closes it.
func (l *Listener) Accept(ctx context.Context) (*Peer, error) {
	sess, err := l.ln.Accept(ctx)
	if err != nil {
		return nil, fmt.Errorf("talk: accept: %w", err)
	}
	return newPeer(sess, l.opts), nil
}

// Close stops listening. Peers already accepted stay open.
func (l *Listener) Close() error { return l.ln.Close() }

// Addr returns the address listened on, such as the TCP address with the
// port the system chose for port 0.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve accepts peers until ctx is done or Accept fails, and runs fn(p)
// in a goroutine of its own for each peer p (fn may be nil when the peers
// only serve). A peer stays open after fn returns, until the other side
// closes it or Serve returns.
//
// Before returning, Serve closes the listener and every peer it accepted,
// and waits for the calls of fn to return. It returns ctx's error when
// ctx ended it, otherwise the error of Accept (which matches net.ErrClosed
// if the listener was closed).
func (l *Listener) Serve(ctx context.Context, fn func(*Peer)) error {
	defer l.ln.Close()
	var (
		mu    sync.Mutex // guards peers
		peers = map[*Peer]struct{}{}
		wg    sync.WaitGroup
	)
	defer func() {
		mu.Lock()
		open := make([]*Peer, 0, len(peers))
		for p := range peers {
			open = append(open, p)
		}
		mu.Unlock()
		for _, p := range open {
			p.Close()
		}
		wg.Wait()
	}()
	for {
		p, err := l.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		mu.Lock()
		peers[p] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			if fn != nil {
				fn(p)
			}
			p.Wait()
			mu.Lock()
			delete(peers, p)
			mu.Unlock()
			p.Close() // reaps the session's goroutines
		})
	}
}
