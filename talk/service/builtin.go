package service

import (
	"context"
	"github.com/qtalkkit/qtalk/internal/quote"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// The built-in labels every server answers.
const (
	// BuiltinModule is the module of the built-in labels; no service may
	// take its name.
	BuiltinModule = "qtalk"

	// LabelLabels lists the labels the server offers, local and
	// upstream, as a sorted []string ("chat:send", "guild:write", ...;
	// a route that takes every name with a prefix ends in "*", and an
	// upstream that could not be asked shows as "guild:*"). It takes no
	// arguments.
	LabelLabels = "qtalk:labels"

	// LabelServices describes the configured services, as []ServiceInfo
	// sorted by name. It takes no arguments.
	LabelServices = "qtalk:services"

	// LabelGrid lists the server's links to the other hosts of its grid
	// (the [grid] table), as []grid.LinkInfo sorted by host: each with its
	// status ("connecting", "connected", "disconnected"), the error that
	// took it down, and since when. It is empty, and LabelLabels does not
	// list it, when the server is in no grid. It takes no arguments.
	LabelGrid = "qtalk:grid"

	// LabelSubscribe streams the events of a service (the argument, a
	// string; SubscribeAll for all of them). See Subscribe.
	LabelSubscribe = "qtalk:subscribe"
)

// ServiceInfo describes a service, for LabelServices.
type ServiceInfo struct {
	Name     string `cbor:"name" json:"name"`
	Provider string `cbor:"provider" json:"provider"`                     // "local" or the upstream's address
	Module   string `cbor:"module,omitempty" json:"module,omitempty"`     // of a local service
	Upstream string `cbor:"upstream,omitempty" json:"upstream,omitempty"` // the upstream's name of the service
	Open     bool   `cbor:"open" json:"open"`

	// Process describes the child program of a process service (an
	// exec: provider or a src): its pid, restarts and last exit.
	Process *ProcessInfo `cbor:"process,omitempty" json:"process,omitempty"`

	// Endpoints are the endpoints of an upstream service's provider: its
	// address, each address of a list, or what DNS gave (and those
	// draining), each with its state and calls in flight.
	Endpoints []EndpointInfo `cbor:"endpoints,omitempty" json:"endpoints,omitempty"`
}

// labelsTimeout bounds asking an upstream for its labels.
const labelsTimeout = 2 * time.Second

func (s *Server) serveBuiltin(r rpc.Responder, c *rpc.Call, l label.Label) {
	switch l.Name {
	case "labels":
		r.Return(s.labels(c.Context()))
	case "services":
		r.Return(s.services())
	case "subscribe":
		s.serveSubscribe(r, c)
	case "grid":
		r.Return(s.gridLinks())
	case "source":
		s.serveSource(r, c)
	case "describe":
		s.serveDescribe(r, c)
	case "ping": // a Peer answers it first; this serves the server as a handler of its own
		talk.PingHandler.RespondRPC(r, c)
	default:
		r.Error(rpc.Errorf(rpc.CodeNotFound, "no built-in label %s", quote.Bounded(c.FullSelector)))
	}
}

// labels lists the labels offered, asking the upstreams for theirs.
func (s *Server) labels(ctx context.Context) []string {
	st := s.state.Load()
	out := []string{LabelDescribe, LabelLabels, talk.LabelPing, LabelServices, LabelSource, LabelSubscribe}
	if s.inGrid() {
		out = append(out, LabelGrid)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, svc := range st.services {
		if svc.mod != nil {
			for _, p := range svc.mod.routes.Patterns() {
				out = append(out, name+":"+p)
			}
			continue
		}
		wg.Go(func() {
			ls := s.upstreamLabels(ctx, svc)
			mu.Lock()
			out = append(out, ls...)
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Strings(out)
	return out
}

// upstreamLabels asks the upstream of svc for its labels of the service,
// renamed with the local name.
func (s *Server) upstreamLabels(ctx context.Context, svc *service) []string {
	all := []string{svc.cfg.Name + ":*"}
	ctx, cancel := context.WithTimeout(ctx, labelsTimeout)
	defer cancel()
	peer, err := svc.remote.prov.session(ctx)
	if err != nil {
		return all
	}
	var ls []string
	if _, err := peer.Call(ctx, LabelLabels, nil, &ls); err != nil {
		return all
	}
	var out []string
	for _, l := range ls {
		if module, name, ok := strings.Cut(l, ":"); ok && module == svc.cfg.Service {
			out = append(out, svc.cfg.Name+":"+name)
		}
	}
	return out
}

// services describes the configured services.
func (s *Server) services() []ServiceInfo {
	st := s.state.Load()
	out := make([]ServiceInfo, 0, len(st.services))
	for name, svc := range st.services {
		info := ServiceInfo{Name: name, Provider: svc.cfg.Provider, Open: s.hub.isOpen(name)}
		if svc.mod != nil {
			info.Module = svc.cfg.Module
		} else {
			info.Upstream = svc.cfg.Service
			if proc := svc.remote.prov.process(); proc != nil {
				info.Process = proc.info()
			}
			info.Endpoints = svc.remote.prov.endpoints()
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
