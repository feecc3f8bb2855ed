package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/qtalkkit/qtalk/internal/web"
	"github.com/qtalkkit/qtalk/rpc/metrics"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

// serveConfig serves the services of the config file at path with
// package service until ctx ends, reloading the file when it changes or
// on SIGHUP, then shuts down within shutdownTimeout.
func serveConfig(ctx context.Context, log *slog.Logger, path string, shutdownTimeout time.Duration, metricsAddr string) error {
	cfg, err := config.Load(path)
	if err != nil {
		// A config that does not parse names its file, line and key.
		if errors.Is(err, config.ErrInvalid) {
			return usageErrorf("serve: %v", err)
		}
		return usageErrorf("serve: --config: %v", err)
	}
	if len(cfg.Listen) == 0 {
		// Not defaulted here: a reload of the file would drop the default.
		return usageErrorf("serve: %s lists no addresses to listen on (add listen = [%q])", path, defaultListens[0])
	}
	slog.SetDefault(log) // for the built-in modules
	opts := []service.Option{service.WithLogger(log),
		service.WithListenOptions(webOptions(web.Handler(), log.With("type", "listener"))...)}
	if metricsAddr != "" {
		m := &metrics.Metrics{}
		stop, err := serveMetrics(metricsAddr, m, log)
		if err != nil {
			return fmt.Errorf("serve: --metrics: %w", unwrapOp(err))
		}
		defer stop()
		opts = append(opts, service.WithInterceptors(m.Interceptor()))
	}
	srv, err := service.New(cfg, opts...)
	if err != nil {
		if errors.Is(err, service.ErrUnknownModule) { // a mistake in the file, which the error names
			return usageErrorf("serve: %v", err)
		}
		return fmt.Errorf("serve: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Close()
		return fmt.Errorf("serve: %w", unwrapOp(err))
	}
	srv.WatchConfig(ctx, path)
	<-ctx.Done()
	log.Info("shutting down", "type", "server", "reason", context.Cause(ctx))
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("calls still in flight were cut short", "type", "server", "timeout", shutdownTimeout)
	}
	log.Info("stopped", "type", "server")
	return nil
}
