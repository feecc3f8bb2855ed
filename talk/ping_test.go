package talk_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// Every peer answers qtalk:ping with its payload, whatever its handler:
// one with an empty RespondMux and one whose handler answers everything
// else with an error.
func TestPing(t *testing.T) {
	refuseAll := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "refused %s", c.FullSelector))
	})
	forEachPair(t, func(t *testing.T, mp makePair) {
		a, b := mp(t, nil, []talk.Option{talk.WithHandler(refuseAll)})
		for _, size := range []int{0, 1, 1000, 64 << 10} {
			for _, p := range []*talk.Peer{a, b} {
				rtt, err := p.Ping(callCtx(t), size)
				if err != nil || rtt <= 0 {
					t.Errorf("Ping(%d) = %v, %v; want a round trip", size, rtt, err)
				}
			}
		}
		// The payload comes back as sent, in the other codec too.
		json := rpc.NewClient(b.Session(), rpc.WithCodec(rpc.JSON))
		var echo []byte
		if _, err := json.Call(callCtx(t), talk.LabelPing, []byte("abc"), &echo); err != nil || string(echo) != "abc" {
			t.Errorf("qtalk:ping in JSON = %q, %v; want abc", echo, err)
		}
	})
}

// A payload over the other side's frame limit fails the ping, not the
// peer; a negative size fails at once.
func TestPingLimits(t *testing.T) {
	a, _ := pipePair(t, nil, []talk.Option{talk.WithMaxFrameSize(1 << 10)})
	if _, err := a.Ping(callCtx(t), 4<<10); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Errorf("Ping over the limit: %v, want resource_exhausted", err)
	}
	if _, err := a.Ping(callCtx(t), 100); err != nil {
		t.Errorf("Ping after the oversized one: %v", err)
	}
	if _, err := a.Ping(callCtx(t), -1); err == nil {
		t.Error("Ping(-1) succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Ping(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping with a cancelled context: %v, want context.Canceled", err)
	}
}

// A reply that does not carry the payload back fails with ErrPingReply:
// the other side is a plain rpc.Server whose qtalk:ping drops a byte.
func TestPingWrongReply(t *testing.T) {
	c1, c2 := pipe.New()
	cliSess, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	srvSess, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		var payload []byte
		c.Receive(&payload)
		r.Return(bytes.TrimSuffix(payload, payload[len(payload)-1:]))
	})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.ServeSession(srvSess)
	}()
	p := talk.NewPeer(cliSess)
	defer func() {
		closePeers(t, p)
		srvSess.Close()
		<-served
	}()
	if _, err := p.Ping(callCtx(t), 10); !errors.Is(err, talk.ErrPingReply) {
		t.Errorf("Ping with a short reply: %v, want ErrPingReply", err)
	}
}
