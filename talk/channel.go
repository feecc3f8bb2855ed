package talk

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// A ChannelHandler serves raw byte-stream channels opened by label (see
// OpenChannel). ServeChannel gets the channel, a net.Conn whose
// CloseWrite ends its bytes, and the label the client opened, parameters
// included. The channel is closed when ServeChannel returns. ctx is the
// call's context: it ends when the session does, at the call's deadline,
// or when ServeChannel returns; the client closing the channel shows as
// the end of its bytes (io.EOF) or failed writes.
type ChannelHandler interface {
	ServeChannel(ctx context.Context, conn mux.Channel, l label.Label)
}

// ChannelHandlerFunc adapts a function to a ChannelHandler.
type ChannelHandlerFunc func(ctx context.Context, conn mux.Channel, l label.Label)

// ServeChannel calls f.
func (f ChannelHandlerFunc) ServeChannel(ctx context.Context, conn mux.Channel, l label.Label) {
	f(ctx, conn, l)
}

// ChannelRPC adapts a ChannelHandler to an rpc.Handler: it discards the
// call's arguments, continues the call with a nil reply and hands the raw
// channel to h with the call's label. If the selector is not a label (a
// RespondMux routed it by a prefix of its own), the label is the one in
// Call.Selector or, failing that, just that name.
func ChannelRPC(h ChannelHandler) rpc.Handler {
	return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		l, err := LabelOf(c)
		if err != nil {
			if l, err = label.Parse(c.Selector); err != nil {
				l = label.Label{Name: c.Selector}
			}
		}
		if err := c.Receive(nil); err != nil {
			r.Error(err)
			return
		}
		if err := r.Continue(nil); err != nil {
			return
		}
		h.ServeChannel(c.Context(), r.Conn(), l)
	})
}

// OpenChannel opens a raw byte-stream channel to the label lbl over c: it
// calls lbl with args (nil for none), expects the handler to continue the
// call, as a ChannelHandler does, and returns the call's channel. Closing
// the channel ends the call. ctx bounds the whole channel, not only its
// opening: when it ends, the channel is closed.
//
// A label that does not parse fails with an error matching
// label.ErrInvalid; a handler that answers without continuing, with one
// matching ErrNotChannel.
func OpenChannel(ctx context.Context, c *rpc.Client, lbl string, args any) (mux.Channel, error) {
	if _, err := label.Parse(lbl); err != nil {
		return nil, fmt.Errorf("talk: open channel: %w", err)
	}
	resp, err := c.Call(ctx, lbl, args, nil)
	if err != nil {
		return nil, fmt.Errorf("talk: open channel %s: %w", lbl, err)
	}
	if !resp.Continue {
		return nil, fmt.Errorf("talk: open channel %s: %w", lbl, ErrNotChannel)
	}
	return &openChannel{Channel: resp.Conn(), resp: resp}, nil
}

// OpenChannel opens a raw byte-stream channel to the label lbl on the
// other side; see the function OpenChannel.
func (p *Peer) OpenChannel(ctx context.Context, lbl string, args any) (mux.Channel, error) {
	if p.re == nil {
		return OpenChannel(ctx, p.client, lbl, args)
	}
	var ch mux.Channel
	err := p.do(ctx, func(cur *Peer) (err error) {
		ch, err = OpenChannel(ctx, cur.client, lbl, args)
		return err
	})
	return ch, err
}

// openChannel is the raw channel of a call, which Close ends.
type openChannel struct {
	mux.Channel
	resp *rpc.Response
}

func (c *openChannel) Close() error { return c.resp.Close() }
