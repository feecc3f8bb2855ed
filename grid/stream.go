package grid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/qtalkkit/qtalk/rpc"
)

// MaxCapacity bounds the queue capacities of a stream, as registered and
// as announced by the other host.
const MaxCapacity = 1 << 12

// A StreamHandler serves the streams named by its registration.
type StreamHandler struct {
	// Requests is the capacity of the queue of requests from the caller,
	// Responses that of the queue of responses to it (each at most
	// MaxCapacity). A full queue holds the sending side up. With
	// Requests 0 the stream takes no requests: the caller's Send fails
	// with ErrNoRequests.
	Requests  int
	Responses int

	// Serve runs the stream: payload is the caller's initial one;
	// requests yields the caller's requests and is closed when the caller
	// ends them (Stream.CloseSend) or the stream ends; Serve sends its
	// responses on responses, selecting on ctx.Done() beside each send,
	// and must not close it. The stream ends when Serve returns: with its
	// error, which the caller's Recv returns after the responses sent
	// before, or normally. Its ctx ends when the caller cancels or closes
	// the stream, its deadline passes, or the link is lost. The caller's
	// cancel travels behind the requests it sent: a Serve that has stopped
	// reading requests sees it once it reads them (or at its deadline, or
	// when the link is lost).
	Serve func(ctx context.Context, payload []byte, requests <-chan []byte, responses chan<- []byte) error
}

// streamMessage is a value the handler's side of a stream sends: a
// response, or the end of a stream that ended normally.
type streamMessage struct {
	Data []byte `cbor:"d,omitempty"`
	End  bool   `cbor:"e,omitempty"`
}

// HandleStream registers h to serve the streams named name. It panics on
// a name registered twice, a nil Serve, or a capacity out of range.
func (m *Manager) HandleStream(name string, h StreamHandler) {
	if h.Serve == nil || h.Requests < 0 || h.Requests > MaxCapacity || h.Responses < 0 || h.Responses > MaxCapacity {
		panic(fmt.Sprintf("grid: bad StreamHandler for %q", name))
	}
	m.mux.HandleFunc(prefixStream+name, m.guard(func(r rpc.Responder, c *rpc.Call) {
		serveStream(r, c, h)
	}))
}

// serveStream runs one stream of h. The call's reads belong to a reader
// goroutine, and its sends to a sender goroutine, while h.Serve runs.
func serveStream(r rpc.Responder, c *rpc.Call, h StreamHandler) {
	var payload []byte
	if err := c.Receive(&payload); err != nil {
		r.Error(err)
		return
	}
	if err := r.Continue(streamOpen{Requests: h.Requests, Responses: h.Responses}); err != nil {
		return
	}
	ctx, cancel := context.WithCancel(c.Context())
	defer cancel()

	requests := make(chan []byte, h.Requests)
	readerDone := make(chan struct{})
	if h.Requests > 0 {
		go func() {
			defer close(readerDone)
			defer close(requests)
			for {
				var b []byte
				if err := c.Receive(&b); err != nil {
					if err != io.EOF {
						// The call broke (closed by the caller, even in the
						// middle of a frame): Serve must not wait on it.
						cancel()
					}
					return // io.EOF: the caller ended its requests
				}
				select {
				case requests <- b:
				case <-ctx.Done():
					return
				}
			}
		}()
	} else {
		close(requests)
		close(readerDone)
	}

	responses := make(chan []byte, h.Responses)
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		for b := range responses {
			if err := r.Send(streamMessage{Data: b}); err != nil {
				cancel() // the caller is gone: Serve sees its ctx end
				for range responses {
				}
				return
			}
		}
	}()

	err := h.Serve(ctx, payload, requests, responses)
	close(responses)
	<-senderDone
	if err != nil {
		r.Error(err)
	} else {
		r.Send(streamMessage{End: true})
	}
	// The caller closes the call once it has read the end, which ends a
	// read in progress; reading after the handler returned is not allowed.
	<-readerDone
}

// A Stream is the caller's side of a stream: Send and CloseSend belong to
// one goroutine, Recv to one (the same or another), and Close may be
// called from any.
type Stream struct {
	name      string
	l         *link
	resp      *rpc.Response
	requests  chan []byte   // nil if the handler takes no requests
	responses chan []byte   // closed once the stream ended; err says how
	done      chan struct{} // closed once the stream ended
	finished  chan struct{} // closed once the call is closed too
	err       error         // written before done is closed: nil for a normal end
	cancel    context.CancelFunc
	sendEnded atomic.Bool
	closeOnce sync.Once
}

// Stream starts the stream name on the host with payload. The ctx bounds
// the whole stream: its deadline is the handler's too, and cancelling it
// ends the stream on both sides. While the link is down, Stream fails at
// once with an error matching ErrUnavailable.
func (c *Connection) Stream(ctx context.Context, name string, payload []byte) (*Stream, error) {
	p, err := c.l.current()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var open streamOpen
	resp, err := p.Call(ctx, prefixStream+name, payload, &open)
	if err != nil {
		cancel()
		return nil, c.l.callError(name, err)
	}
	if !resp.Continue {
		cancel()
		resp.Close()
		return nil, fmt.Errorf("grid: %s on %s: the handler did not start a stream: %w", name, c.l.host, rpc.ErrInternal)
	}
	s := &Stream{
		name:      name,
		l:         c.l,
		resp:      resp,
		responses: make(chan []byte, min(max(open.Responses, 0), MaxCapacity)),
		done:      make(chan struct{}),
		finished:  make(chan struct{}),
		cancel:    cancel,
	}
	senderDone := make(chan struct{})
	if open.Requests > 0 {
		s.requests = make(chan []byte, min(open.Requests, MaxCapacity))
		go s.send(senderDone)
	} else {
		close(senderDone)
	}
	go s.receive(ctx, senderDone)
	return s, nil
}

// send writes the queued requests until CloseSend or the end of the stream.
func (s *Stream) send(senderDone chan<- struct{}) {
	defer close(senderDone)
	for {
		select {
		case b, ok := <-s.requests:
			if !ok {
				s.resp.CloseSend()
				return
			}
			if s.resp.Send(b) != nil {
				return // the call ended: receive reports why
			}
		case <-s.done:
			return
		}
	}
}

// receive reads the responses until the end of the stream, then closes
// the call once the sender has stopped.
func (s *Stream) receive(ctx context.Context, senderDone <-chan struct{}) {
	defer func() {
		close(s.responses)
		close(s.done)
		s.cancel()
		<-senderDone
		s.resp.Close()
		close(s.finished)
	}()
	for {
		var msg streamMessage
		if err := s.resp.Receive(&msg); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the end comes as a message
			}
			s.err = s.l.callError(s.name, err)
			return
		}
		if msg.End {
			return
		}
		select {
		case s.responses <- msg.Data:
		case <-ctx.Done():
			s.err = s.l.callError(s.name, context.Cause(ctx))
			return
		}
	}
}

// Send queues a request, waiting while the queue is full until ctx ends
// or the stream ends (then it returns the stream's error, or io.EOF if
// the stream ended normally).
func (s *Stream) Send(ctx context.Context, b []byte) error {
	if s.requests == nil {
		return ErrNoRequests
	}
	if s.sendEnded.Load() {
		return errSendEnded
	}
	select {
	case s.requests <- b:
		return nil
	case <-s.done:
		return s.endError()
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errSendEnded = errors.New("grid: Send after CloseSend")

// CloseSend ends the caller's requests: the handler's requests channel is
// closed once it has read those queued.
func (s *Stream) CloseSend() {
	if s.requests != nil && !s.sendEnded.Swap(true) {
		close(s.requests)
	}
}

// Recv returns the next response. At the end of the stream it returns
// io.EOF if the handler returned nil, and the stream's error otherwise.
func (s *Stream) Recv(ctx context.Context) ([]byte, error) {
	select {
	case b, ok := <-s.responses:
		if !ok {
			return nil, s.endError()
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// endError is the error of Recv and Send once done is closed.
func (s *Stream) endError() error {
	if s.err == nil {
		return io.EOF
	}
	return s.err
}

// Close ends the stream, cancelling the handler if it still runs, and
// waits until the stream's goroutines are done. It returns nil.
func (s *Stream) Close() error {
	s.closeOnce.Do(s.cancel)
	<-s.finished
	return nil
}
