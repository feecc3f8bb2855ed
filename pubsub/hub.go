package pubsub

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
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
	for s := range h.subs {
		if Match(s.pattern, topic) {
			s.push(Event{Topic: topic, Value: v})
		}
	}
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
		s.push(Event{Topic: t, Value: h.retained[t], Retained: true})
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
	queue   []Event // guarded by mu; at most size
	dropped int     // guarded by mu: values dropped since the last Next
}

// push queues ev, dropping the oldest value if the queue is full.
func (s *Subscription) push(ev Event) {
	s.mu.Lock()
	if len(s.queue) == s.size {
		s.queue = s.queue[1:]
		s.dropped++
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Next returns the next Event, waiting for one until ctx ends or the hub
// closes: a gap Event first if values were dropped.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		if s.dropped > 0 {
			ev := Event{Gap: s.dropped}
			s.dropped = 0
			s.mu.Unlock()
			return ev, nil
		}
		if len(s.queue) > 0 {
			ev := s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return ev, nil
		}
		s.mu.Unlock()
		select {
		case <-s.ready:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		case <-s.hub.closed:
			return Event{}, ErrClosed
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
