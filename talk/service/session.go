package service

import (
	"log/slog"
	"net"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
)

// servePeer serves a client session that came from l (nil for
// ServeSession's) in the background, logging its start and end.
func (s *Server) servePeer(sess mux.Session, l *listener) *talk.Peer {
	from, attrs := "session", []any{"remote", sess.RemoteAddr().String()}
	if l != nil {
		from, attrs = l.addr, append(attrs, "listener", l.id)
	}
	limits := s.state.Load().cfg.Limits
	s.peersMu.Lock()
	if limits.MaxSessions > 0 && len(s.peers) >= limits.MaxSessions {
		s.peersMu.Unlock()
		s.logger.Warn("session refused: max_sessions reached", append([]any{"type", "server"}, attrs...)...)
		sess.Close()
		return nil
	}
	s.lastSess++
	log := s.logger.With("type", "session", "id", s.lastSess)
	p := talk.NewPeer(sess, talk.WithHandler(logCalls(s.handler, log)), talk.WithMaxFrameSize(limits.MaxFrameSize))
	s.peers[p] = struct{}{}
	s.peersMu.Unlock()
	start := time.Now()
	log.Info("session opened", attrs...)
	if s.metrics != nil {
		s.metrics.SessionOpened()
	}
	ended := func() {
		s.peersMu.Lock()
		delete(s.peers, p)
		s.peersMu.Unlock()
		p.Close()
		log.Info("session closed", durationAttr(time.Since(start), time.Millisecond))
		if s.metrics != nil {
			s.metrics.SessionClosed()
		}
		if s.sessionEnded != nil {
			s.sessionEnded(from)
		}
	}
	if !s.spawn(func() { p.Wait(); ended() }) {
		ended()
	}
	return p
}

// logCalls logs every call h serves at level debug to log, the logger of
// the call's session.
func logCalls(h rpc.Handler, log *slog.Logger) rpc.Handler {
	return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		if !log.Enabled(c.Context(), slog.LevelDebug) {
			h.RespondRPC(r, c)
			return
		}
		rec := &rpc.CodeRecorder{Responder: r}
		start := time.Now()
		h.RespondRPC(rec, c)
		log.Debug("call", "selector", c.FullSelector, "code", rec.Code.String(), "continued", rec.Continued, durationAttr(time.Since(start), time.Microsecond))
	})
}

// durationAttr is the attribute "duration", d rounded to unit, as text
// ("1.5s") that reads the same in text and JSON logs, where a
// time.Duration would be a count of nanoseconds.
func durationAttr(d, unit time.Duration) slog.Attr {
	return slog.String("duration", d.Round(unit).String())
}

// listenedAddr returns the transport address a listener of the config's
// address listen listens on: with the port the system chose when listen
// asked for port 0 (tcp://127.0.0.1:0 listening as tcp://127.0.0.1:4242).
func listenedAddr(listen string, got net.Addr) string {
	a, err := transport.ParseAddress(listen)
	if err != nil {
		return listen
	}
	switch got := got.(type) {
	case *net.TCPAddr, *net.UDPAddr: // tcp, tls, ws, wss; quic
		if a.Host != "" {
			a.Host = got.String()
		}
	}
	return a.String()
}
