package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
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
		s.metrics.SessionOpened(sess)
	}
	ended := func() {
		s.peersMu.Lock()
		delete(s.peers, p)
		s.peersMu.Unlock()
		p.Close()
		err := p.Wait()
		level, reason := endReason(err)
		attrs := []any{"reason", reason, durationAttr(time.Since(start), time.Millisecond)}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		log.Log(context.Background(), level, "session closed", attrs...)
		if s.metrics != nil {
			s.metrics.SessionClosed(sess)
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

// endReason names why a session ended with err (its Wait's error) for the
// log, with the level to log it at: an end that is part of the normal
// course at INFO, a peer that broke the protocol, went silent, stopped
// reading or ran into a limit at WARN.
func endReason(err error) (slog.Level, string) {
	switch {
	case err == nil:
		return slog.LevelInfo, "closed" // by this server: Close, a shutdown
	case errors.Is(err, io.EOF):
		return slog.LevelInfo, "peer closed"
	case errors.Is(err, mux.ErrIdleTimeout): // qmux's and mux/quic's
		return slog.LevelInfo, "idle timeout"
	case errors.Is(err, mux.ErrProtocol):
		return slog.LevelWarn, "protocol error"
	case errors.Is(err, qmux.ErrKeepAliveTimeout):
		return slog.LevelWarn, "keepalive timeout"
	case errors.Is(err, qmux.ErrWriteTimeout):
		return slog.LevelWarn, "write timeout"
	case errors.Is(err, qmux.ErrPeerNotReading):
		return slog.LevelWarn, "limit"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return slog.LevelWarn, "timeout" // mux/quic's keepalive timeout among others
	}
	return slog.LevelWarn, "error"
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
