package talk

import (
	"context"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// An Option configures a Peer, or the peers of a Listener.
type Option func(*options)

// options are the settings built from the Option arguments.
type options struct {
	handler      rpc.Handler // nil: a fresh RespondMux per peer
	clientOpts   []rpc.ClientOption
	transport    []transport.Option
	maxFrameSize int                                // 0: rpc's default
	reconnect    *ReconnectConfig                   // WithReconnect's, or nil
	onDrain      func(ctx context.Context, p *Peer) // the peers of a reconnecting peer's sessions: Peer.onDrain
}

func newOptions(opts []Option) *options {
	o := new(options)
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithHandler makes the peer serve h instead of a RespondMux of its own.
// If h is an *rpc.RespondMux, it is the peer's Mux and Handle and
// HandleFunc register on it; passing one mux to several peers (such as
// those of a Listener) serves the same handlers on all of them.
func WithHandler(h rpc.Handler) Option {
	return func(o *options) { o.handler = h }
}

// WithClientOptions sets the options of the peer's rpc client, such as
// rpc.WithCodec. They apply to the calls of Call.Caller in the peer's
// handlers too.
func WithClientOptions(opts ...rpc.ClientOption) Option {
	return func(o *options) { o.clientOpts = append(o.clientOpts, opts...) }
}

// WithTransportOptions sets the options Dial and Listen pass to the
// transport, such as transport.WithSessionConfig. NewPeer ignores them.
func WithTransportOptions(opts ...transport.Option) Option {
	return func(o *options) { o.transport = append(o.transport, opts...) }
}

// WithMaxFrameSize bounds the rpc frames the peer accepts, both in the
// calls it serves and in the replies to its calls (default
// rpc.DefaultMaxFrameSize).
func WithMaxFrameSize(n int) Option {
	return func(o *options) { o.maxFrameSize = n }
}
