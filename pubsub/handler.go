package pubsub

import (
	"github.com/qtalkkit/qtalk/rpc"
)

// Handler returns the hub's labels, publish, retain and subscribe, in an
// *rpc.RespondMux of exact names (see the package documentation).
func (h *Hub) Handler() *rpc.RespondMux {
	m := rpc.NewRespondMux()
	m.HandleFunc("publish", func(r rpc.Responder, c *rpc.Call) { h.servePublish(r, c, false) })
	m.HandleFunc("retain", func(r rpc.Responder, c *rpc.Call) { h.servePublish(r, c, true) })
	m.HandleFunc("subscribe", h.serveSubscribe)
	return m
}

func (h *Hub) servePublish(r rpc.Responder, c *rpc.Call, retain bool) {
	var topic string
	var v any
	if err := c.ReceiveArgs(&topic, &v); err != nil {
		r.Error(err)
		return
	}
	if topic == "" {
		r.Error(rpc.Errorf(rpc.CodeInvalidArgument, "pubsub: empty topic"))
		return
	}
	h.Publish(topic, v, retain)
	r.Return(nil)
}

func (h *Hub) serveSubscribe(r rpc.Responder, c *rpc.Call) {
	var pattern string
	if err := c.ReceiveArgs(&pattern); err != nil {
		r.Error(err)
		return
	}
	if pattern == "" {
		r.Error(rpc.Errorf(rpc.CodeInvalidArgument, "pubsub: empty pattern"))
		return
	}
	s := h.Subscribe(pattern)
	defer s.Close()
	if err := r.Continue(nil); err != nil {
		return
	}
	ctx := c.Context()
	for {
		p, err := s.next(ctx)
		if err != nil {
			return
		}
		if err := r.Send(p); err != nil {
			return
		}
	}
}
