package service

import (
	"context"
	"github.com/qtalkkit/qtalk/internal/quote"
	"sort"
	"strings"
	"sync"

	"github.com/qtalkkit/qtalk/rpc"
)

// The events of every service's lifecycle.
const (
	EventOpen  = "open"  // the service is ready: all its procedures can be called
	EventClose = "close" // the service closed, or its upstream is gone
)

// An Event is what a subscriber gets: Name is the service and the event,
// "chat/close", and Param the value the module emitted, as the
// subscriber's codec decodes it (nil for the lifecycle's events).
type Event struct {
	Name  string `cbor:"name" json:"name"`
	Param any    `cbor:"param,omitempty" json:"param,omitempty"`
}

// Service returns the service part of the event's name.
func (e Event) Service() string {
	s, _, _ := strings.Cut(e.Name, "/")
	return s
}

// Event returns the event part of the event's name, such as "close".
func (e Event) Event() string {
	_, ev, _ := strings.Cut(e.Name, "/")
	return ev
}

// SubscribeAll is the service name that subscribes to every service.
const SubscribeAll = "*"

// subscriberBuffer is how many events a subscriber may lag behind before
// it loses its subscription.
const subscriberBuffer = 256

// hub delivers events to subscribers and keeps the state of each service
// for those who subscribe later.
type hub struct {
	mu   sync.Mutex
	open map[string]bool          // guarded by mu; the services known, and whether open
	subs map[*subscriber]struct{} // guarded by mu
}

// A subscriber gets the events of one service, or of all.
type subscriber struct {
	service string // or SubscribeAll
	events  chan Event
	lost    chan struct{} // closed when it fell behind, and dropped
}

func newHub() *hub {
	return &hub{open: map[string]bool{}, subs: map[*subscriber]struct{}{}}
}

// publish sends service/event to its subscribers. The lifecycle's events
// are sent only when they change the service's state.
func (h *hub) publish(service, event string, param any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch event {
	case EventOpen, EventClose:
		open := event == EventOpen
		if was, ok := h.open[service]; ok && was == open || !ok && !open {
			h.open[service] = open
			return
		}
		h.open[service] = open
	}
	ev := Event{Name: service + "/" + event, Param: param}
	for s := range h.subs {
		if s.service == service || s.service == SubscribeAll {
			h.sendLocked(s, ev)
		}
	}
}

// sendLocked queues ev for s, or drops s if it lags too far behind.
func (h *hub) sendLocked(s *subscriber, ev Event) {
	select {
	case s.events <- ev:
	default:
		delete(h.subs, s)
		close(s.lost)
	}
}

// forget drops the state of a service that is no longer configured,
// telling its subscribers it closed if it was open.
func (h *hub) forget(service string) {
	h.publish(service, EventClose, nil)
	h.mu.Lock()
	delete(h.open, service)
	h.mu.Unlock()
}

// known registers a configured service, closed until it opens.
func (h *hub) known(service string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.open[service]; !ok {
		h.open[service] = false
	}
}

// subscribe registers a subscriber for service (or SubscribeAll), whose
// first events are the current state of the services it follows. It
// fails for a service that is not configured.
func (h *hub) subscribe(service string) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var names []string
	if service == SubscribeAll {
		for name := range h.open {
			names = append(names, name)
		}
		sort.Strings(names)
	} else if _, ok := h.open[service]; ok {
		names = []string{service}
	} else {
		return nil, rpc.Errorf(rpc.CodeNotFound, "no service %s to subscribe to", quote.Bounded(service))
	}
	s := &subscriber{service: service, events: make(chan Event, subscriberBuffer+len(names)), lost: make(chan struct{})}
	for _, name := range names {
		ev := EventClose
		if h.open[name] {
			ev = EventOpen
		}
		s.events <- Event{Name: name + "/" + ev}
	}
	h.subs[s] = struct{}{}
	return s, nil
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
}

// isOpen reports whether service is open.
func (h *hub) isOpen(service string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open[service]
}

// serveSubscribe serves qtalk:subscribe: the argument is a service name
// or SubscribeAll; the call continues with a nil reply and streams
// Events until the client closes it, the server closes, or the
// subscriber falls behind (then it ends with CodeResourceExhausted).
func (s *Server) serveSubscribe(r rpc.Responder, c *rpc.Call) {
	var service string
	if err := c.Receive(&service); err != nil {
		r.Error(err)
		return
	}
	sub, err := s.hub.subscribe(service)
	if err != nil {
		r.Error(err)
		return
	}
	defer s.hub.unsubscribe(sub)
	// A subscriber to an upstream service wants to know when it
	// connects: connect now.
	s.connect(service)
	if err := r.Continue(nil); err != nil {
		return
	}
	ctx := c.Context()
	for {
		select {
		case ev := <-sub.events:
			if err := r.Send(ev); err != nil {
				return
			}
		case <-sub.lost:
			r.Error(rpc.Errorf(rpc.CodeResourceExhausted, "subscriber more than %d events behind", subscriberBuffer))
			return
		case <-ctx.Done():
			return
		case <-s.drainCtx.Done():
			return
		}
	}
}

// A Subscription is a stream of events from a server; see Subscribe.
type Subscription struct {
	resp *rpc.Response
}

// Subscribe subscribes to the events of service, or of every service with
// SubscribeAll, on the server c calls (the built-in label
// qtalk:subscribe). The first events are the current state of the
// services: "name/open" or "name/close". The subscription lasts until
// Close, or until ctx ends. It fails with rpc.CodeNotFound for a service
// the server does not have.
func Subscribe(ctx context.Context, c *rpc.Client, service string) (*Subscription, error) {
	resp, err := c.Call(ctx, LabelSubscribe, service, nil)
	if err != nil {
		return nil, err
	}
	if !resp.Continue {
		return nil, rpc.Errorf(rpc.CodeInternal, "%s answered without a stream", LabelSubscribe)
	}
	return &Subscription{resp: resp}, nil
}

// Next returns the next event. It fails with io.EOF when the server ends
// the subscription, and with the error that ended it otherwise.
func (s *Subscription) Next() (Event, error) {
	var ev Event
	err := s.resp.Receive(&ev)
	return ev, err
}

// Close ends the subscription.
func (s *Subscription) Close() error { return s.resp.Close() }
