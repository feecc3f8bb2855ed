package demo

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// HistorySize is how many messages the chat keeps.
const HistorySize = 100

// maxPending bounds the events waiting for a slow subscriber; one more
// ends its subscription.
const maxPending = 1024

// A Message is a chat message.
type Message struct {
	ID   int64  `json:"id"`
	User string `json:"user"`
	Text string `json:"text"`
	Time string `json:"time"` // RFC 3339 in UTC, to the millisecond
}

// An Event is what subscribers receive.
type Event struct {
	Type    string   `json:"type"` // "joined", "left" or "message"
	User    string   `json:"user"`
	Message *Message `json:"message,omitempty"` // for "message"
}

// ChatService is what the chat serves, as chat:send, chat:history and
// chat:subscribe.
type ChatService interface {
	// Send posts a message from user.
	Send(user, text string) (Message, error)
	// History returns the last HistorySize messages, oldest first.
	History() []Message
	// Subscribe streams events until ctx ends or the chat is closed. The
	// first event is the subscriber's own "joined"; every message sent
	// after that follows. A subscriber that falls more than 1024 events
	// behind is dropped: its stream ends.
	Subscribe(ctx context.Context, user string) (<-chan Event, error)
}

// Chat is a chat room in memory.
type Chat struct {
	log     *slog.Logger
	observe func(Event) // set by Observe before use; called outside mu

	mu      sync.Mutex // guards the fields below
	nextID  int64
	history []Message
	subs    map[*subscriber]struct{}
	closed  bool
	done    chan struct{} // closed by Close
}

var _ ChatService = (*Chat)(nil)

// NewChat returns an empty chat room that logs to log.
func NewChat(log *slog.Logger) *Chat {
	return &Chat{log: log, subs: map[*subscriber]struct{}{}, done: make(chan struct{})}
}

// Observe makes the chat call f with every event it broadcasts, from the
// goroutine of the call that caused it. Call it before the chat is used.
func (c *Chat) Observe(f func(Event)) { c.observe = f }

// notify calls the observer, if any.
func (c *Chat) notify(ev Event) {
	if c.observe != nil {
		c.observe(ev)
	}
}

func (c *Chat) Send(user, text string) (Message, error) {
	if user == "" || text == "" {
		return Message{}, rpc.Errorf(rpc.CodeInvalidArgument, "chat:send needs a user and a text")
	}
	c.mu.Lock()
	c.nextID++
	m := Message{ID: c.nextID, User: user, Text: text, Time: time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	c.history = append(c.history, m)
	if len(c.history) > HistorySize {
		c.history = append(c.history[:0:0], c.history[len(c.history)-HistorySize:]...)
	}
	ev := Event{Type: "message", User: user, Message: &m}
	c.broadcastLocked(ev)
	c.mu.Unlock()
	c.notify(ev)
	c.log.Debug("message", "user", user, "msg_id", m.ID)
	return m, nil
}

func (c *Chat) History() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message{}, c.history...)
}

func (c *Chat) Subscribe(ctx context.Context, user string) (<-chan Event, error) {
	if user == "" {
		return nil, rpc.Errorf(rpc.CodeInvalidArgument, "chat:subscribe needs a user")
	}
	s := &subscriber{wake: make(chan struct{}, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, rpc.Errorf(rpc.CodeUnavailable, "the chat is closed")
	}
	c.subs[s] = struct{}{}
	joined := Event{Type: "joined", User: user}
	c.broadcastLocked(joined)
	n := len(c.subs)
	c.mu.Unlock()
	c.notify(joined)
	c.log.Info("subscriber joined", "user", user, "subscribers", n)

	out := make(chan Event)
	go func() {
		defer close(out)
		reason := s.pump(ctx, c.done, out)
		c.mu.Lock()
		delete(c.subs, s)
		left := Event{Type: "left", User: user}
		closed := c.closed
		if !closed {
			c.broadcastLocked(left)
		}
		n := len(c.subs)
		c.mu.Unlock()
		if !closed {
			c.notify(left)
		}
		c.log.Info("subscriber left", "user", user, "reason", reason, "subscribers", n)
	}()
	return out, nil
}

// Close ends every subscription and makes later ones fail.
func (c *Chat) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
}

// broadcastLocked queues ev for every subscriber.
func (c *Chat) broadcastLocked(ev Event) {
	for s := range c.subs {
		s.push(ev)
	}
}

// A subscriber queues the events of one subscription.
type subscriber struct {
	mu       sync.Mutex // guards queue and overflow
	queue    []Event
	overflow bool
	wake     chan struct{} // signalled when an event is queued
}

func (s *subscriber) push(ev Event) {
	s.mu.Lock()
	if len(s.queue) >= maxPending {
		s.overflow = true
	} else {
		s.queue = append(s.queue, ev)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pump sends the queued events on out until ctx ends, done is closed or
// the queue overflowed, and says which.
func (s *subscriber) pump(ctx context.Context, done <-chan struct{}, out chan<- Event) (reason string) {
	for {
		s.mu.Lock()
		over := s.overflow
		var ev Event
		ok := len(s.queue) > 0
		if ok {
			ev = s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
		}
		s.mu.Unlock()
		if over {
			return "too slow"
		}
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return "call ended"
			case <-done:
				return "chat closed"
			}
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return "call ended"
		case <-done:
			return "chat closed"
		}
	}
}
