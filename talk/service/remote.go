package service

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// A remote is the backend of an upstream service: its provider and the
// state of the service upstream.
//
// The service is open while a session to an endpoint of the provider is
// up and the upstream says the service is open: the remote follows one
// endpoint at a time, another one when that one's session drops, and the remote subscribes to the
// upstream's events for its service (qtalk:subscribe) and passes them on
// under the local name, so guild-service/open upstream is guild/open
// here, and so on for the events the upstream's module emits. An
// upstream that has no qtalk:subscribe (a plain talk peer, such as a
// worker process) counts as open while connected; a qtalk server that
// does not have the service, as closed. The session dropping closes the
// service.
type remote struct {
	srv      *Server
	name     string // the local name
	upstream string // the upstream's name of the service
	prov     *provider

	mu       sync.Mutex
	retired  bool                 // guarded by mu
	up       map[*pool]*talk.Peer // guarded by mu; the endpoints' sessions that are up
	watching *pool                // guarded by mu; whose events are followed, or nil
	gen      int                  // guarded by mu; counts sessions, so a stale watcher stays quiet
	stop     context.CancelFunc   // guarded by mu; ends the current watcher
}

func newRemote(srv *Server, name, upstream string, p *provider) *remote {
	return &remote{srv: srv, name: name, upstream: upstream, prov: p, up: map[*pool]*talk.Peer{}}
}

// connected notes the new session of an endpoint, and follows the
// upstream's events on it unless it follows another endpoint. Called
// with the pool's lock held.
func (b *remote) connected(p *pool, peer *talk.Peer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.retired {
		return
	}
	b.up[p] = peer
	if b.watching == nil || b.watching == p {
		b.watchLocked(p, peer)
	}
}

// watchLocked follows the upstream's events on the session peer of p.
func (b *remote) watchLocked(p *pool, peer *talk.Peer) {
	if b.stop != nil {
		b.stop()
	}
	b.watching = p
	b.gen++
	gen := b.gen
	ctx, cancel := context.WithCancel(peer.Context())
	b.stop = cancel
	if !b.srv.spawn(func() { b.watch(ctx, peer, gen) }) {
		cancel()
	}
}

// disconnected notes that the session of an endpoint dropped: the
// events of another endpoint whose session is up are followed, and with
// none the service closes. Called with the pool's lock held.
func (b *remote) disconnected(p *pool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.up, p)
	if b.watching != p {
		return
	}
	if b.stop != nil {
		b.stop()
		b.stop = nil
	}
	b.watching = nil
	b.gen++
	if b.retired {
		return
	}
	for q, peer := range b.up {
		b.watchLocked(q, peer)
		return
	}
	b.srv.hub.publish(b.name, EventClose, nil)
}

// attach starts following the provider.
func (b *remote) attach() { b.prov.attach(b) }

// retire stops following the provider: the service is removed or
// replaced.
func (b *remote) retire() {
	b.prov.detach(b)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.retired = true
	if b.stop != nil {
		b.stop()
		b.stop = nil
	}
	b.srv.hub.publish(b.name, EventClose, nil)
}

// publish passes an event on, unless the session it came from is gone.
func (b *remote) publish(gen int, event string, param any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.retired && b.gen == gen {
		b.srv.hub.publish(b.name, event, param)
	}
}

// wireEvent is an Event as received from upstream, its param kept
// encoded.
type wireEvent struct {
	Name  string          `cbor:"name" json:"name"`
	Param cbor.RawMessage `cbor:"param,omitempty" json:"param,omitempty"`
}

// paramMode decodes the params of upstream events with string-keyed maps,
// so that they encode in any codec again.
var paramMode, _ = cbor.DecOptions{DefaultMapType: reflect.TypeFor[map[string]any]()}.DecMode()

func decodeParam(raw cbor.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if paramMode.Unmarshal(raw, &v) != nil {
		v = nil
		cbor.Unmarshal(raw, &v)
	}
	return v
}

// resubscribeWait is the pause before subscribing upstream again, after a
// subscription ended while the session stayed up; missingServiceWait,
// after an upstream server said it does not have the service.
const (
	resubscribeWait    = 100 * time.Millisecond
	missingServiceWait = time.Second
)

// watch follows the upstream's events for the service while ctx lasts.
func (b *remote) watch(ctx context.Context, peer *talk.Peer, gen int) {
	prefix := b.upstream + "/"
	for ctx.Err() == nil {
		resp, err := peer.Call(ctx, LabelSubscribe, b.upstream, nil)
		switch code := rpc.CodeOf(err); {
		case err == nil:
		case code == rpc.CodeNotFound || code == rpc.CodeUnimplemented || code == rpc.CodeInvalidArgument:
			if _, err := peer.Call(ctx, LabelServices, nil, nil); err == nil {
				// A qtalk server without the service (yet): closed until
				// a reload upstream adds it.
				if !wait(ctx, missingServiceWait) {
					return
				}
				continue
			}
			// Not a qtalk server: connected is open.
			b.publish(gen, EventOpen, nil)
			<-ctx.Done()
			return
		default:
			if !wait(ctx, resubscribeWait) {
				return
			}
			continue
		}
		if !resp.Continue {
			resp.Close()
			b.publish(gen, EventOpen, nil)
			<-ctx.Done()
			return
		}
		for {
			var ev wireEvent
			if err := resp.Receive(&ev); err != nil {
				break
			}
			event, ok := strings.CutPrefix(ev.Name, prefix)
			if !ok || event == "" {
				continue
			}
			b.publish(gen, event, decodeParam(ev.Param))
		}
		resp.Close()
		if !wait(ctx, resubscribeWait) {
			return
		}
	}
}

// wait waits for d, or returns false when ctx ends first.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
