package qmux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

var (
	// ErrIdleTimeout ends a session that had no channel open and received
	// no data for Config.IdleTimeout. It matches os.ErrDeadlineExceeded.
	ErrIdleTimeout = fmt.Errorf("qmux: idle timeout: no channel open and no data received: %w", os.ErrDeadlineExceeded)

	// ErrKeepAliveTimeout ends a session whose peer did not answer a
	// keepalive probe within Config.KeepAliveTimeout. It matches
	// os.ErrDeadlineExceeded.
	ErrKeepAliveTimeout = fmt.Errorf("qmux: keepalive timeout: the peer did not answer: %w", os.ErrDeadlineExceeded)

	// ErrWriteTimeout ends a session whose write to the connection did
	// not complete within Config.WriteTimeout: the peer does not read. It
	// matches os.ErrDeadlineExceeded.
	ErrWriteTimeout = fmt.Errorf("qmux: write timeout: the peer does not read: %w", os.ErrDeadlineExceeded)
)

// watchLiveness ends the session when it has been idle for
// Config.IdleTimeout or a write has been under way for Config.WriteTimeout,
// and probes a silent peer every Config.KeepAlivePeriod. It samples the
// counts of messages and DATA messages received, and the start of the
// write under way, four times per the shortest of them, so it costs the
// reader an atomic add or two a message and the writer two stores a
// batch.
func (s *Session) watchLiveness() {
	var tick time.Duration
	for _, d := range []time.Duration{s.cfg.IdleTimeout, s.cfg.KeepAlivePeriod, s.cfg.WriteTimeout} {
		if d > 0 && (tick == 0 || d < tick) {
			tick = d
		}
	}
	t := time.NewTicker(tick / 4)
	defer t.Stop()
	now := time.Now()
	seen, quietSince := s.received.Load(), now // for the keepalive: any message
	data, idleSince := s.dataReceived.Load(), now
	for {
		select {
		case <-s.done:
			return
		case now = <-t.C:
		}
		if n := s.dataReceived.Load(); n != data || s.hasChannels() {
			data, idleSince = n, now
		}
		if n := s.received.Load(); n != seen {
			seen, quietSince = n, now
		}
		writing := s.writeSince.Load()
		switch {
		case s.cfg.WriteTimeout > 0 && writing != 0 && now.Sub(time.Unix(0, writing)) >= s.cfg.WriteTimeout:
			s.fail(ErrWriteTimeout)
			return
		case s.cfg.IdleTimeout > 0 && now.Sub(idleSince) >= s.cfg.IdleTimeout:
			s.fail(ErrIdleTimeout)
			return
		case s.cfg.KeepAlivePeriod > 0 && now.Sub(quietSince) >= s.cfg.KeepAlivePeriod:
			if err := s.probe(); err != nil {
				s.fail(err)
				return
			}
			seen, quietSince = s.received.Load(), time.Now()
		}
	}
}

// probe opens a channel and closes it once the peer answers. Any answer
// shows the peer alive, a refusal too; so does having no channel number
// left to probe with. If the session ends meanwhile, its cause stands.
func (s *Session) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.KeepAliveTimeout)
	defer cancel()
	ch, err := s.open(ctx, true)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return ErrKeepAliveTimeout
		}
		return nil
	}
	ch.Close()
	return nil
}
