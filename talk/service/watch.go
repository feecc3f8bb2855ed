package service

import (
	"context"
	"crypto/sha256"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/qtalkkit/qtalk/talk/config"
)

// WatchConfig reloads the config from the file at path when the process
// gets SIGHUP, and when the file changes: every watch_interval (of the
// config in effect) it compares the file's modification time and size,
// and when they changed, its SHA-256, with what it last loaded. It
// returns at once, having registered for SIGHUP, and watches until ctx
// ends or the server closes.
//
// A config that does not load or cannot be applied is logged (level
// error, type "config") and the config in effect stays; the file is
// tried again when it changes again, or on SIGHUP. Each reload is logged
// at level info.
//
// With path "", for a config made in the program, SIGHUP applies the
// config in effect again: the listeners read their certificate files
// again.
func (s *Server) WatchConfig(ctx context.Context, path string) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var last fileStamp
	if path != "" {
		var err error
		if last, _, err = stat(path, true); err != nil {
			s.logger.Error("cannot read the config to watch", "type", "config", "id", path, "err", err)
		}
	}
	if !s.spawn(func() { s.watch(ctx, path, hup, last) }) {
		signal.Stop(hup)
	}
}

// fileStamp is what tells whether a file changed.
type fileStamp struct {
	mtime time.Time
	size  int64
	sum   [sha256.Size]byte
}

// stat reads the stamp of path; with content, the hash too.
func stat(path string, content bool) (fileStamp, []byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, nil, err
	}
	st := fileStamp{mtime: fi.ModTime(), size: fi.Size()}
	if !content {
		return st, nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fileStamp{}, nil, err
	}
	st.sum = sha256.Sum256(data)
	return st, data, nil
}

// watch reloads the config on SIGHUP and when the file differs from last.
func (s *Server) watch(ctx context.Context, path string, hup chan os.Signal, last fileStamp) {
	defer signal.Stop(hup)
	id := path
	if id == "" {
		id = s.Config().File
	}
	log := s.logger.With("type", "config", "id", id)
	var timer *time.Timer
	var tick <-chan time.Time
	arm := func() {
		d := s.state.Load().cfg.WatchInterval
		if d <= 0 {
			if timer != nil {
				timer.Stop()
			}
			tick = nil
			return
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		tick = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	arm()
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-s.ctx.Done():
			return
		case <-hup:
			force = true
			log.Info("SIGHUP: reloading the config")
		case <-tick:
		}
		if path == "" { // a config made in the program: SIGHUP applies it again
			if force {
				if err := s.Reload(s.Config()); err != nil {
					log.Error("config not applied again: keeping the config in effect", "err", err)
				}
			}
			arm()
			continue
		}
		cur, _, err := stat(path, false)
		switch {
		case err != nil:
			log.Error("cannot read the config", "err", err)
		case force || cur.mtime != last.mtime || cur.size != last.size:
			cur, data, err := stat(path, true)
			if err != nil {
				log.Error("cannot read the config", "err", err)
				break
			}
			if !force && cur.sum == last.sum {
				last = cur // touched, not changed
				break
			}
			last = cur
			s.reloadFrom(data, path)
		}
		arm()
	}
}

// reloadFrom parses and applies the content of the config file, logging
// the outcome.
func (s *Server) reloadFrom(data []byte, path string) {
	log := s.logger.With("type", "config", "id", path)
	cfg, err := config.Parse(data, path)
	if err == nil {
		err = s.Reload(cfg)
	}
	if err != nil {
		log.Error("config rejected: keeping the config in effect", "err", err)
		return
	}
	log.Info("config reloaded")
}
