package talk

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// LabelPing is the built-in label every peer answers, whatever its
// handler: it replies with its argument, a byte string, unchanged
// (spec/labels.md, section 6). Peer.Ping calls it.
const LabelPing = "qtalk:ping"

// PingHandler answers LabelPing: it replies with its argument, a byte
// string, unchanged. A Peer serves it by itself; servers that serve
// without a Peer register it.
var PingHandler rpc.Handler = rpc.HandlerFunc(servePing)

func servePing(r rpc.Responder, c *rpc.Call) {
	var payload []byte
	if err := c.Receive(&payload); err != nil {
		r.Error(err)
		return
	}
	r.Return(payload)
}

// Ping calls LabelPing on the other side with a payload of size bytes and
// returns the round trip: from just before the call's channel is opened
// to the reply, which must carry the payload back unchanged (ErrPingReply
// otherwise). The call and its reply are values of the peer's codec; a
// size over the other side's frame limit fails with
// rpc.CodeResourceExhausted. A negative size is an error.
func (p *Peer) Ping(ctx context.Context, size int) (time.Duration, error) {
	if size < 0 {
		return 0, fmt.Errorf("talk: ping with a negative size %d", size)
	}
	payload := pingPayload(size)
	var echo []byte
	start := time.Now()
	if _, err := p.Call(ctx, LabelPing, payload, &echo); err != nil {
		return 0, err
	}
	rtt := time.Since(start)
	if !bytes.Equal(echo, payload) {
		return 0, fmt.Errorf("%w: %d bytes back for %d sent", ErrPingReply, len(echo), size)
	}
	return rtt, nil
}

// pingPayload returns size bytes of a pattern that a reply which loses,
// reorders or truncates bytes does not match.
func pingPayload(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}
