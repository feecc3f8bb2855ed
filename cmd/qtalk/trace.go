package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/tracing"
)

// traceFlagHelp is the usage of --trace.
const traceFlagHelp = "trace calls to `DEST`: stdout or stderr (a JSON line per span), or an OpenTelemetry collector's OTLP/HTTP URL (http://HOST:4318)"

// traceFlushTimeout bounds sending the last spans at the end.
const traceFlushTimeout = 5 * time.Second

// traceInterceptor returns the interceptor --trace dest asks for, and a
// func that sends the spans left and stops the exporter; nil and a no-op
// for dest "". Spans an OTLP collector refuses are logged on log.
func traceInterceptor(cmd, dest string, e *env, log *slog.Logger) (rpc.Interceptor, func(), error) {
	var w io.Writer
	switch {
	case dest == "":
		return nil, func() {}, nil
	case dest == "stdout":
		w = e.stdout
	case dest == "stderr":
		w = e.stderr
	case strings.HasPrefix(dest, "http://") || strings.HasPrefix(dest, "https://"):
		o, err := tracing.NewOTLP(tracing.OTLPConfig{Endpoint: dest, OnError: func(err error) {
			log.Warn("spans not sent", "type", "trace", "err", err)
		}})
		if err != nil {
			return nil, nil, usageErrorf("%s: --trace: %v", cmd, err)
		}
		return tracing.Interceptor(o), func() {
			ctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
			defer cancel()
			if err := o.Close(ctx); err != nil {
				log.Warn("spans not sent", "type", "trace", "err", err)
			}
		}, nil
	default:
		return nil, nil, usageErrorf("%s: --trace %q: want stdout, stderr or an http:// or https:// URL", cmd, dest)
	}
	return tracing.Interceptor(tracing.NewWriter(w)), func() {}, nil
}
