package pubsub

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/qtalkkit/qtalk/rpc"
)

// Config configures a Hub. The zero value (or nil) gives the defaults.
type Config struct {
	// QueueSize is how many values a subscriber may have queued before
	// the oldest is dropped (default DefaultQueueSize).
	QueueSize int
}

// DefaultQueueSize is a subscriber's queue unless Config.QueueSize says
// otherwise.
const DefaultQueueSize = 1024

// An Event is what a subscriber receives: a value published under Topic,
// or, when Gap is not 0, the number of values dropped from its full queue
// before the next Event.
type Event struct {
	Topic    string `json:"topic,omitempty" cbor:"topic,omitempty"`
	Value    any    `json:"value,omitempty" cbor:"value,omitempty"`
	Retained bool   `json:"retained,omitempty" cbor:"retained,omitempty"`
	Gap      int    `json:"gap,omitempty" cbor:"gap,omitempty"`
}

// A Hub passes published values to the subscribers whose patterns match
// their topics. Its methods are safe for concurrent use.
type Hub struct {
	queueSize int
	closed    chan struct{} // closed by Close
	closeOnce sync.Once

	mu       sync.Mutex // guards subs and retained, and orders publications
	subs     map[*Subscription]struct{}
	retained map[string]any
}

// NewHub returns a hub configured by cfg (nil for the defaults).
func NewHub(cfg *Config) *Hub {
	h := &Hub{queueSize: DefaultQueueSize, closed: make(chan struct{}), subs: map[*Subscription]struct{}{}, retained: map[string]any{}}
	if cfg != nil && cfg.QueueSize > 0 {
		h.queueSize = cfg.QueueSize
	}
	return h
}

// Publish passes v to every subscriber whose pattern matches topic. With
// retain, v also becomes the topic's retained value (nil forgets it).
func (h *Hub) Publish(topic string, v any, retain bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if retain {
		if v == nil {
			delete(h.retained, topic)
		} else {
			h.retained[topic] = v
		}
	}
	var p *publication // one for every subscriber
	for s := range h.subs {
		if Match(s.pattern, topic) {
			if p == nil {
				p = &publication{ev: Event{Topic: topic, Value: v}}
			}
			s.push(p)
		}
	}
}

// A publication is an Event on its way to subscribers, which share it and
// the encodings of it that they send: the first to send it in a codec
// encodes it for the others (an rpc.RawMarshaler).
type publication struct {
	ev  Event
	mu  sync.Mutex
	enc []encoding // guarded by mu
}

type encoding struct {
	codec string
	b     []byte
}

var _ rpc.RawMarshaler = (*publication)(nil)

func (p *publication) MarshalRaw(c rpc.Codec) ([]byte, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.enc {
		if e.codec == c.Name() {
			return e.b, true, nil
		}
	}
	b, err := c.Append(nil, p.ev)
	if err != nil {
		return nil, false, err
	}
	p.enc = append(p.enc, encoding{c.Name(), b})
	return b, true, nil
}

// Subscribe returns a subscription to the topics pattern matches, which
// first holds their retained values. Close it when done.
func (h *Hub) Subscribe(pattern string) *Subscription {
	s := &Subscription{hub: h, pattern: pattern, size: h.queueSize, ready: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	var topics []string
	for t := range h.retained {
		if Match(pattern, t) {
			topics = append(topics, t)
		}
	}
	sort.Strings(topics)
	for _, t := range topics {
		s.push(&publication{ev: Event{Topic: t, Value: h.retained[t], Retained: true}})
	}
	h.subs[s] = struct{}{}
	return s
}

// A Subscription is a subscriber's bounded queue of Events.
type Subscription struct {
	hub     *Hub
	pattern string
	size    int
	ready   chan struct{} // holds a token while the queue is not empty

	mu      sync.Mutex
	queue   []*publication // guarded by mu; at most size
	dropped int            // guarded by mu: values dropped since the last Next
}

// push queues p, dropping the oldest value if the queue is full.
func (s *Subscription) push(p *publication) {
	s.mu.Lock()
	if len(s.queue) == s.size {
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.dropped++
	}
	s.queue = append(s.queue, p)
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Next returns the next Event, waiting for one until ctx ends or the hub
// closes: a gap Event first if values were dropped.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	p, err := s.next(ctx)
	if err != nil {
		return Event{}, err
	}
	return p.ev, nil
}

// next is Next, the Event in a publication (of its own for a gap).
func (s *Subscription) next(ctx context.Context) (*publication, error) {
	for {
		s.mu.Lock()
		if s.dropped > 0 {
			p := &publication{ev: Event{Gap: s.dropped}}
			s.dropped = 0
			s.mu.Unlock()
			return p, nil
		}
		if len(s.queue) > 0 {
			p := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return p, nil
		}
		s.mu.Unlock()
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.hub.closed:
			return nil, ErrClosed
		}
	}
}

// ErrClosed is returned by Subscription.Next once the hub is closed.
var ErrClosed = errors.New("pubsub: the hub is closed")

// Close ends every subscription (their Next returns ErrClosed once they
// have no value queued, and their streams end), for a server shutting
// down. Publishing still works, for nobody.
func (h *Hub) Close() { h.closeOnce.Do(func() { close(h.closed) }) }

// Close ends the subscription: the hub stops queueing for it.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}

// Match reports whether topic matches pattern: token by token, with "*"
// matching any one token and a final ">" one or more.
func Match(pattern, topic string) bool {
	for {
		p, prest, pmore := strings.Cut(pattern, ".")
		if p == ">" && !pmore {
			return topic != ""
		}
		t, trest, tmore := strings.Cut(topic, ".")
		if p != "*" && p != t {
			return false
		}
		if !pmore || !tmore {
			return pmore == tmore
		}
		pattern, topic = prest, trest
	}
}
