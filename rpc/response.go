package rpc

import (
	"context"
	"errors"

	"github.com/qtalkkit/qtalk/mux"
)

// response implements Responder.
type response struct {
	call      *Call
	responded bool
	continued bool
	failed    bool // an ERROR frame ended the continued call's stream
	oneWay    bool // the call is a one-way message: answers go nowhere
}

func (r *response) reply(cont bool, v any) error {
	if r.responded {
		return errAlreadyResponded
	}
	if r.oneWay {
		if cont {
			return errOneWay
		}
		r.responded = true
		return nil
	}
	c := r.call
	if c.ctx.ended() == context.DeadlineExceeded {
		// Too late: the client no longer waits for a result, so the
		// call fails as it would had the handler noticed the deadline.
		r.responded = true
		late := asError(context.DeadlineExceeded)
		c.beginWrite()
		if err := c.endWrite(writeError(c.ch, frameReply, late)); err != nil {
			return err
		}
		return late
	}
	w := newFrameWriter()
	var err error
	if c.legacy {
		w.legacyReply(c.codec, cont, nil)
		err = w.legacyValue(c.codec, v)
	} else {
		w.reply(cont, c.zmin > 0, nil)
		err = w.value(c.codec, v, c.zmin)
	}
	if err != nil {
		w.release()
		return r.Error(Errorf(CodeInternal, "encode %s reply: %w", c.codec.Name(), err))
	}
	r.responded, r.continued = true, cont
	c.beginWrite()
	_, err = w.writeTo(c.ch)
	return c.endWrite(err)
}

func (r *response) Return(v any) error { return r.reply(false, v) }

func (r *response) Continue(v any) error {
	if r.responded {
		return errAlreadyResponded
	}
	if r.oneWay {
		return errOneWay
	}
	// Leave framed mode before the reply goes out: the client may answer
	// it at once with raw bytes, which must not be read as frames.
	c := r.call
	c.stopWatch()
	c.mode.Store(modeUndecided)
	err := r.reply(true, v)
	if !r.continued {
		c.mode.Store(modeFramed)
	}
	c.startWatch()
	return err
}

func (r *response) Error(err error) error {
	if r.continued {
		// The reply is out: the error ends the stream instead.
		return r.send(frameError, err)
	}
	if r.responded {
		return errAlreadyResponded
	}
	r.responded = true
	if r.oneWay {
		return nil
	}
	c := r.call
	c.beginWrite()
	if c.legacy {
		return c.endWrite(writeLegacyError(c.ch, c.codec, asError(err)))
	}
	return c.endWrite(writeError(c.ch, frameReply, asError(err)))
}

func (r *response) Send(v any) error {
	if !r.continued {
		return errNotContinued
	}
	if c := r.call; c.mode.Load() == modeUndecided {
		// The first Send decides that the call streams frames: restart
		// the background read, which now recognises a CANCEL frame.
		c.stopWatch()
		c.mode.Store(modeFramed)
		c.startWatch()
	}
	return r.send(frameValue, v)
}

// send writes a value or error frame on a continued call. A write that
// fails means the call is over: its context is cancelled.
func (r *response) send(kind byte, v any) error {
	c := r.call
	var err error
	if c.legacy && kind == frameError {
		// The older framing cannot say why a stream ends: the channel
		// closes when the handler returns.
		return nil
	}
	c.beginWrite()
	switch {
	case c.legacy:
		err = writeLegacyValue(c.ch, c.codec, v)
	case kind == frameError:
		r.failed = true
		err = writeError(c.ch, frameError, asError(v.(error)))
	default:
		err = writeValue(c.ch, c.codec, v, c.zmin)
	}
	err = c.endWrite(err)
	if channelFailed(err) {
		c.ctx.cancel(context.Canceled)
	}
	return err
}

func (r *response) Conn() mux.Channel {
	return &rawConn{Channel: r.call.ch, pending: r.call.takeRaw()}
}

var (
	errAlreadyResponded = errors.New("rpc: call already answered")
	errNotContinued     = errors.New("rpc: Send before Continue")
	errOneWay           = errors.New("rpc: a one-way message cannot continue")
)
