package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// One-way messages (spec/rpc.md, section 7, "Messages"). A client sends
// the messages of one selector on one channel of their own: a MESSAGE
// frame with the call header, then a VALUE frame per message. The server
// runs the handler for each in turn, in the order sent, and answers
// nothing; it reads the next message only when the handler has returned,
// so a slow handler fills the channel's window and blocks the sender.

// ErrSendFailed is matched by the error of Client.Send when the channel
// of the selector's messages ended: the server refused the messages (its
// reply error is wrapped too), closed the channel, or the session ended.
// Messages sent before it on that channel may or may not have been
// handled; the next Send opens a new channel.
var ErrSendFailed = errors.New("rpc: the messages' channel ended")

// A sender is the channel of one selector's messages.
type sender struct {
	mu sync.Mutex  // held while opening and writing: messages go out in the order Send takes it
	ch mux.Channel // guarded by mu; nil until opened

	failMu  sync.Mutex
	failed  error         // guarded by failMu: why the channel ended, set by watch
	watched chan struct{} // closed when watch has set failed
}

// failureWait bounds how long a Send whose write failed waits for the
// channel's reader to say why: the server's reply, if it sent one, is
// already on its way when the write fails.
const failureWait = time.Second

// Send sends v to selector as a one-way message: the server's handler
// runs with v as its arguments, and its reply, if any, is dropped. Send
// returns once the message is written, without waiting for the handler;
// it blocks while the channel's flow-control window is full (the
// receiver's handler has fallen behind), until ctx ends. Messages that
// one client sends to one selector are handled in the order of their
// Sends, one after the other.
//
// Delivery is at most once: a nil error says the message was written,
// not that it was handled. Send fails with an error matching
// ErrSendFailed once the server has refused or closed the selector's
// channel (say, it does not know the codec, or shut down); handler errors
// are not reported. Handlers from package fn for funcs without results
// receive messages as calls.
func (c *Client) Send(ctx context.Context, selector string, v any) error {
	if c.legacy {
		return Errorf(CodeUnimplemented, "rpc: the older framing has no one-way messages")
	}
	zmin := 0
	if c.compressMin > 0 && c.peerTakes.Load() {
		zmin = c.compressMin
	}
	w := newFrameWriter()
	if err := w.value(c.codec, v, zmin); err != nil {
		w.release()
		return Errorf(CodeInvalidArgument, "encode %s message: %w", c.codec.Name(), err)
	}
	return c.sendFrame(ctx, senderKey{c.codec.Name(), selector}, w)
}

// A senderKey names the channel of messages of one codec to one selector.
type senderKey struct{ codec, selector string }

// sendFrame writes w, a VALUE frame, on the channel of key's messages,
// opening it if need be.
func (c *Client) sendFrame(ctx context.Context, key senderKey, w frameWriter) error {
	s := c.sender(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure(); err != nil {
		w.release()
		c.dropSender(key, s)
		return err
	}
	if s.ch == nil {
		if err := c.openSender(ctx, s, key); err != nil {
			w.release()
			c.dropSender(key, s)
			return callError(ctx, err)
		}
	}
	// ctx ending (its deadline included) cuts a write blocked on the window.
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		s.ch.SetWriteDeadline(time.Now())
		close(fired)
	})
	_, err := w.writeTo(s.ch)
	if !stop() {
		<-fired
		s.ch.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		// A message cut short leaves the channel unusable: start anew.
		c.dropSender(key, s)
		if ctx.Err() != nil {
			s.ch.Close()
			return callError(ctx, ctx.Err())
		}
		timer := time.NewTimer(failureWait)
		select {
		case <-s.watched:
		case <-timer.C:
		}
		timer.Stop()
		s.ch.Close()
		if ferr := s.failure(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("%w: %w", ErrSendFailed, err)
	}
	return nil
}

// sender returns the sender of key, making it if need be.
func (c *Client) sender(key senderKey) *sender {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.senders == nil {
		c.senders = map[senderKey]*sender{}
	}
	s := c.senders[key]
	if s == nil {
		s = &sender{}
		c.senders[key] = s
	}
	return s
}

// dropSender forgets s, so that the next message of key opens anew.
func (c *Client) dropSender(key senderKey, s *sender) {
	c.sendMu.Lock()
	if c.senders[key] == s {
		delete(c.senders, key)
	}
	c.sendMu.Unlock()
}

// forwardMessage forwards the one-way message c to selector on cl's
// session, as a message of the same codec, on cl's channel of those
// messages: the messages forwarded to one selector stay in order.
func (cl *Client) forwardMessage(ctx context.Context, resp *response, c *Call, selector string) error {
	w := newFrameWriter()
	w.encoded(c.args)
	c.hasArgs = false
	resp.responded = true // nothing goes back
	return cl.sendFrame(ctx, senderKey{c.codec.Name(), selector}, w)
}

// openSender opens s's channel and writes the MESSAGE header, then
// watches the channel for its end.
func (c *Client) openSender(ctx context.Context, s *sender, key senderKey) error {
	ch, err := c.sess.Open(ctx)
	if err != nil {
		return err
	}
	w := newFrameWriter()
	w.message(&callHeader{selector: key.selector, codec: key.codec})
	if _, err := w.writeTo(ch); err != nil {
		ch.Close()
		return err
	}
	s.ch, s.watched = ch, make(chan struct{})
	go s.watch(ch, c.maxFrameSize)
	return nil
}

// watch reads ch until it ends, which it does only when the server
// refuses the messages (a REPLY with an error) or closes the channel, or
// the session ends; it records why for the next Send.
func (s *sender) watch(ch mux.Channel, maxFrameSize int) {
	fr := frameReader{r: ch, maxSize: maxFrameSize}
	defer fr.release()
	err := ErrSendFailed
	if kind, p, rerr := fr.next(); rerr == nil && kind == frameReply {
		if _, e, perr := parseReplyHeader(p); perr == nil && e != nil {
			err = fmt.Errorf("%w: %w", ErrSendFailed, e)
		}
	} else if rerr != nil {
		err = fmt.Errorf("%w: %w", ErrSendFailed, rerr)
	}
	s.failMu.Lock()
	s.failed = err
	s.failMu.Unlock()
	close(s.watched)
	ch.Close()
}

func (s *sender) failure() error {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	return s.failed
}

// serveMessages serves the messages that follow a MESSAGE header on c's
// channel, one after the other, each as a call of its own whose answer
// goes nowhere. It returns when the client ends the channel (close or
// END) or sends something else than a VALUE, or the server shuts down.
func (s *Server) serveMessages(active *activeCalls, c *Call) {
	for {
		kind, p, err := c.fr.next()
		if err == nil && kind == frameCompressed {
			p, err = c.fr.inflate(p)
		} else if kind != frameValue {
			return
		}
		if err != nil {
			return
		}
		sm := &serverCall{}
		m, r := &sm.call, &sm.resp
		r.call, r.oneWay = m, true
		m.Selector, m.FullSelector, m.Metadata, m.Caller = c.Selector, c.FullSelector, c.Metadata, c.Caller
		m.ch, m.codec = c.ch, c.codec
		m.args, m.hasArgs, m.ended = p, true, true // the handler reads its message and nothing else
		if s.stopping.Load() || !active.add(m) || !active.begin(m) {
			active.remove(m)
			return
		}
		m.ctx.parent, m.ctx.call = active.base, m
		s.respond(r, m)
		m.ctx.cancel(context.Canceled)
		active.remove(m)
	}
}
