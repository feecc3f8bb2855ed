package service

import (
	"context"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/internal/quote"
	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
)

// LabelDescribe answers the argument and result types of a label's
// handler, as an fn.Signature: the argument is the label (a string). A
// local label is described when package fn made its handler (a func or a
// method); an upstream service's label is asked of the upstream, by its
// upstream name.
const LabelDescribe = "qtalk:describe"

// serveDescribe answers LabelDescribe.
func (s *Server) serveDescribe(r rpc.Responder, c *rpc.Call) {
	var arg string
	if err := c.Receive(&arg); err != nil {
		r.Error(rpc.Errorf(rpc.CodeInvalidArgument, "%s: want a label: %v", LabelDescribe, err))
		return
	}
	l, err := label.Parse(arg)
	if err != nil {
		r.Error(rpc.Errorf(rpc.CodeInvalidArgument, "%s: %w", LabelDescribe, err))
		return
	}
	if l.Host == "" && l.Module == BuiltinModule {
		r.Error(rpc.Errorf(rpc.CodeFailedPrecondition, "%s: %s is a built-in label, described in spec/labels.md", LabelDescribe, quote.Bounded(arg)))
		return
	}
	st := s.state.Load()
	svc, err := st.resolve(l)
	if err == nil {
		err = st.authorize(c, svc)
	}
	if err != nil {
		r.Error(err)
		return
	}
	if svc.mod == nil {
		sig, err := s.upstreamDescribe(c.Context(), svc, l)
		if err != nil {
			r.Error(err)
			return
		}
		r.Return(sig)
		return
	}
	h, name, ok := svc.mod.routes.Match(l)
	if !ok {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "%s: no handler for %s", LabelDescribe, quote.Bounded(arg)))
		return
	}
	sig, ok := fn.SignatureOf(h, name)
	if !ok {
		r.Error(rpc.Errorf(rpc.CodeFailedPrecondition, "%s: the handler of %s was not made by package fn: its types are not known", LabelDescribe, quote.Bounded(arg)))
		return
	}
	r.Return(sig)
}

// upstreamDescribe asks the upstream of svc to describe l.
func (s *Server) upstreamDescribe(ctx context.Context, svc *service, l label.Label) (fn.Signature, error) {
	ctx, cancel := context.WithTimeout(ctx, labelsTimeout)
	defer cancel()
	peer, err := svc.remote.prov.session(ctx)
	if err != nil {
		return fn.Signature{}, rpc.Errorf(rpc.CodeUnavailable, "%s: upstream of %q: %v", LabelDescribe, svc.cfg.Name, err)
	}
	var sig fn.Signature
	_, err = peer.Call(ctx, LabelDescribe, l.WithModule(svc.cfg.Service).String(), &sig)
	return sig, err
}
