package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
)

// MetadataIdempotent is the metadata key by which a client marks a call
// idempotent: with the value "1" or "true", the call may be tried again
// when the upstream is unavailable, as the calls that match the
// service's idempotent setting may.
const MetadataIdempotent = "qtalk-idempotent"

// retryPause is the pause before the first retry of a call; it doubles
// with each retry.
const retryPause = 20 * time.Millisecond

// serveService serves a call of svc: with its module, or upstream. A call
// that the service cannot take goes to its fallback, unless it is there
// already: a call that was not started, or an idempotent one the upstream
// failed.
func (s *Server) serveService(r rpc.Responder, c *rpc.Call, svc *service, l label.Label, isFallback bool) {
	var err error
	if svc.mod != nil {
		if svc.mod.isOpen() {
			svc.mod.routes.Serve(r, c, l)
			return
		}
		err = fmt.Errorf("%w: %w", rpc.ErrNotStarted, rpc.Errorf(rpc.CodeUnavailable, "service %q is closed", svc.cfg.Name))
	} else {
		err = s.forward(r, c, svc, l)
		if err == nil || errors.Is(err, rpc.ErrAnswered) {
			return
		}
	}
	fb := svc.fallback
	if fb != nil && !isFallback && (errors.Is(err, rpc.ErrNotStarted) || svc.idempotent(l, c.Metadata) && rpc.CodeOf(err) == rpc.CodeUnavailable) {
		s.logger.Debug("call to fallback", "type", "service", "id", svc.cfg.Name, "fallback", fb.cfg.Name, "err", err)
		s.serveService(r, c, fb, l.WithModule(fb.cfg.Name), true)
		return
	}
	r.Error(err)
}

// idempotent reports whether a call may be tried again.
func (svc *service) idempotent(l label.Label, md rpc.Metadata) bool {
	if v := md[MetadataIdempotent]; v == "1" || v == "true" {
		return true
	}
	for _, p := range svc.cfg.Idempotent {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(l.Name, prefix) || p == l.Name {
			return true
		}
	}
	return false
}

// forward forwards a call to the upstream of svc, trying an idempotent
// call again while the upstream is unavailable, up to the service's
// retries. It returns what rpc.Forward returned last: nil or an error
// matching rpc.ErrAnswered when the call is answered.
func (s *Server) forward(r rpc.Responder, c *rpc.Call, svc *service, l label.Label) error {
	tries := 1
	if svc.idempotent(l, c.Metadata) {
		tries += svc.cfg.Retries
	}
	selector := l.WithModule(svc.cfg.Service).String()
	key := ""
	if svc.cfg.HashParam != "" {
		key, _ = l.Params.Get(svc.cfg.HashParam)
	}
	var err error
	for try := range tries {
		if try > 0 && !wait(c.Context(), retryPause<<(try-1)) {
			break
		}
		err = s.forwardOnce(r, c, svc, selector, key)
		if err == nil || errors.Is(err, rpc.ErrAnswered) || errors.Is(err, ErrCircuitOpen) || rpc.CodeOf(err) != rpc.CodeUnavailable {
			return err
		}
	}
	return err
}

// forwardOnce makes one attempt, past the circuit breaker: at an endpoint
// of the provider picked by the balancing policy (key is the value to
// hash), then at others while the call was not started.
func (s *Server) forwardOnce(r rpc.Responder, c *rpc.Call, svc *service, selector, key string) error {
	ok, probe, wait := svc.breaker.allow()
	if !ok {
		return fmt.Errorf("%w: %w: %w", ErrCircuitOpen, rpc.ErrNotStarted, rpc.Errorf(rpc.CodeUnavailable,
			"service %q: circuit open after repeated failures of its upstream (next try in %s)", svc.cfg.Name, wait.Round(time.Millisecond)))
	}
	rep := &reporter{b: svc.breaker, probe: probe}
	ctx := c.Context()
	if t := svc.cfg.Timeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	p := svc.remote.prov
	var triedBuf [4]*endpoint // on the stack for the usual few tries
	tried := triedBuf[:0]
	var err error
	for {
		e, eprobe, perr := p.pick(ctx, key, tried)
		if perr != nil {
			if err == nil { // no endpoint tried: the pick's error is the news
				err = fmt.Errorf("%w: %w", rpc.ErrNotStarted, perr)
			}
			rep.report(s.classify(c, err))
			return err
		}
		tried = append(tried, e)
		err = s.forwardTo(ctx, r, c, p, e, probe || eprobe, eprobe, selector, rep)
		if !errors.Is(err, rpc.ErrNotStarted) {
			return err
		}
		if ctx.Err() != nil {
			rep.report(s.classify(c, err))
			return err
		}
		// Not started there: another endpoint takes it, whatever it does.
	}
}

// forwardTo makes one attempt at endpoint e, telling the breaker of e
// how it went, and the service's (rep) unless the call was not started,
// which forwardOnce sends to another endpoint.
func (s *Server) forwardTo(ctx context.Context, r rpc.Responder, c *rpc.Call, p *provider, e *endpoint, urgent, eprobe bool, selector string, rep *reporter) error {
	erep := &reporter{b: e.breaker, probe: eprobe}
	p.acquire(e)
	defer p.release(e)
	peer, err := e.pool.session(ctx, urgent)
	if err != nil {
		erep.report(s.classify(c, err))
		return fmt.Errorf("%w: %w", rpc.ErrNotStarted, err)
	}
	err = peer.Client().Forward(ctx, r, c, selector, rpc.OnReply(func() {
		erep.report(outcomeSuccess)
		rep.report(outcomeSuccess)
	}))
	o := s.classify(c, err)
	erep.report(o)
	switch {
	case errors.Is(err, rpc.ErrNotStarted):
	case o == outcomeFailure && p.sc.Many():
		// One endpoint failed: its breaker counts it, and the other
		// endpoints take the next calls. The service's breaker opens
		// only when no endpoint can take a call.
		rep.report(outcomeNone)
	default:
		rep.report(o)
	}
	return err
}

// classify tells the breaker what an attempt says about the upstream.
func (s *Server) classify(c *rpc.Call, err error) outcome {
	switch code := rpc.CodeOf(err); {
	case err == nil:
		return outcomeSuccess
	case errors.Is(err, rpc.ErrNotStarted), code == rpc.CodeUnavailable:
		if c.Context().Err() != nil {
			return outcomeNone // the client went away while it waited
		}
		return outcomeFailure
	case code == rpc.CodeDeadlineExceeded:
		if c.Context().Err() != nil {
			return outcomeNone // the client's own deadline
		}
		return outcomeFailure // the service's timeout
	case code == rpc.CodeCanceled:
		return outcomeNone
	}
	return outcomeSuccess // the upstream answered, if with an error
}
