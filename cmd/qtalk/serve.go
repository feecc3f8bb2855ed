package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/internal/web"
	"github.com/qtalkkit/qtalk/rpc/metrics"
	cfgpkg "github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
	"github.com/qtalkkit/qtalk/transport"
)

var cmdServe = &command{
	name:    "serve",
	args:    "",
	summary: "run a server: the built-in services, or those of a config file",
	help: `
Serve runs a server on every --listen address (by default
tcp://127.0.0.1:4242 and ws://127.0.0.1:4243/qtalk) until SIGINT or
SIGTERM, then shuts down gracefully: it stops listening, streams end, new
calls are refused as not run (a reconnecting client sends them to the
next server), clients are told to start no more calls (qtalk:drain),
calls in flight get --shutdown-timeout to finish, and the sessions are
closed. A second signal ends the process at once.

Every ws and wss listener also serves a web page on the other paths
(http://127.0.0.1:4243/ by default) that chats, uses the kv store and
answers a call from the server through the listener. Web pages of other
origins than the listener's own may open WebSockets to it only if
--allow-origin allows them: PATTERN is matched against the host and
port of the page's origin ("localhost:5173", "*.example.com"), or
against its scheme, host and port if it has "://"
("https://app.example.com"), with the wildcards of Go's path.Match. A
refused origin is logged ("websocket origin refused origin=...").

Listeners on tls://, wss:// and quic:// present the certificate of --cert
and --key, reloaded when the files change or on SIGHUP, or else a
self-signed certificate made at start. Either way their "listening" log
line gives the certificate's fingerprint, which clients pin by adding
?pin=sha256:HEX to the address (or, for a test only, skip the check with
?insecure=1). With --ca they require a client certificate signed by one
of its CAs (mutual TLS).

--metrics HOST:PORT serves the server's metrics for Prometheus at
/metrics. --trace traces every call the server serves or forwards: a
span per call, continuing the trace of the W3C trace context the call's
metadata carries (qtalk call --trace sends one), written as JSON lines
to stdout or stderr, or sent to an OpenTelemetry collector's OTLP/HTTP
URL (http://HOST:4318). Both go with --config too.

Without --config it serves the built-in services, as the config of the
modules listed below would: echo:echo, chat:send, chat:history,
chat:subscribe, kv:get, kv:set, kv:delete, kv:list, the pub/sub hub
(pubsub:publish, pubsub:retain, pubsub:subscribe; see package pubsub),
the interop check protocol (check:*, see qtalk check), and the labels
every server answers (spec/labels.md): qtalk:ping (see qtalk ping),
qtalk:labels, which lists the labels, qtalk:describe (see qtalk describe),
qtalk:services, qtalk:source and
qtalk:subscribe. Labels are routed as spec/labels.md says: parameters
(check:echo?x=1) take no part, and a label naming a host no upstream has
is refused with permission_denied. It logs to stderr, one INFO line per
listener with the address it listens on ("listening
addr=tcp://127.0.0.1:4242": with port 0, the port the system chose), and
one as each session opens and closes; with -v, one DEBUG line per call.
With --listen stdio:, stdout carries the session and nothing else is
written to it; the server stops when that session ends, so a parent can
run it with exec:.

With --config, it serves the services of a qtalk.toml (package
talk/config): the addresses it lists under listen, the origin patterns
under allow_origins, local modules and upstream servers, reloading the
file when it changes or on SIGHUP. The built-in services are modules a
config can mount:
  echo  = { provider = "local", module = "` + moduleEcho + `" }
  chat  = { provider = "local", module = "` + moduleChat + `" }
  kv    = { provider = "local", module = "` + moduleKV + `" }
  check = { provider = "local", module = "` + moduleCheck + `" }
  pubsub = { provider = "local", module = "` + modulePubsub + `" }
The chat module emits its events ("message", "joined", "left") to
subscribers of qtalk:subscribe.`,
	example: `  qtalk serve
  qtalk serve -v --listen tcp://127.0.0.1:0 --listen unix:///tmp/qtalk.sock
  qtalk serve --allow-origin localhost:5173
  qtalk serve --listen tls://0.0.0.0:4244 --listen wss://0.0.0.0:4245/qtalk --cert cert.pem --key key.pem --ca clients-ca.pem
  qtalk serve --config qtalk.toml
  qtalk serve --config gateway.toml --metrics 127.0.0.1:9464 --trace http://127.0.0.1:4318
  qtalk check "qtalk serve --listen stdio:"`,
}

// defaultListens are the addresses serve listens on without --listen.
var defaultListens = []string{"tcp://127.0.0.1:4242", "ws://127.0.0.1:4243/qtalk"}

func runServe(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdServe)
	var listens stringList
	f.Var(&listens, "listen", "listen on `ADDR` (repeatable; default "+defaultListens[0]+" and "+defaultListens[1]+")")
	var origins stringList
	f.Var(&origins, "allow-origin", "let web pages whose origin matches `PATTERN` use the ws listeners (repeatable)")
	config := f.String("config", "", "serve the services of config `FILE` (see package talk/config)")
	shutdownTimeout := f.Duration("shutdown-timeout", 5*time.Second, "how long calls in flight may take to finish after a signal")
	tlsFiles := f.serverTLSFlags()
	metricsAddr := f.String("metrics", "", "serve metrics for Prometheus at http://`HOST:PORT`/metrics")
	traceDest := f.String("trace", "", traceFlagHelp)
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("serve: unexpected argument %q (addresses go in --listen)", pos[0])
	}
	var cfg *cfgpkg.Config
	if *config != "" {
		if len(listens) > 0 {
			return usageErrorf("serve: --listen and --config do not mix: the config lists the addresses to listen on")
		}
		if len(origins) > 0 {
			return usageErrorf("serve: --allow-origin and --config do not mix: the config lists the origins allowed (allow_origins)")
		}
		if !tlsFiles.IsZero() {
			return usageErrorf("serve: --cert, --key and --ca do not mix with --config: the config gives them per listener (cert, key and ca)")
		}
		if cfg, err = loadConfig(*config); err != nil {
			return err
		}
	} else {
		if len(listens) == 0 {
			listens = defaultListens
		}
		for _, a := range listens {
			if err := checkAddress("serve", a); err != nil {
				return err
			}
		}
		if _, err := loadTLS("serve", tlsFiles); err != nil {
			return err
		}
		cfg = builtinConfig(listens, origins, *tlsFiles)
	}
	if *traceDest == "stdout" && slices.Contains(cfg.Listen, "stdio:") {
		return usageErrorf("serve: --trace stdout and a stdio: listener do not mix: stdout carries the session (trace to stderr)")
	}
	log := f.logger(e)
	trace, stopTrace, err := traceInterceptor("serve", *traceDest, e, log)
	if err != nil {
		return err
	}
	defer stopTrace()
	var opts []service.Option
	if trace != nil {
		opts = append(opts, service.WithInterceptors(trace))
	}
	return serveService(ctx, log, cfg, *config, *shutdownTimeout, *metricsAddr, opts...)
}

// builtinModules are the services of the server without --config, by
// name.
var builtinModules = map[string]string{
	"echo":   moduleEcho,
	"chat":   moduleChat,
	"kv":     moduleKV,
	"check":  moduleCheck,
	"pubsub": modulePubsub,
}

// builtinConfig returns the config of the server without --config: the
// built-in services on the addresses listens, web pages of origins
// allowed, and the TLS listeners with the certificate of files if it
// names one.
func builtinConfig(listens, origins []string, files transport.TLSFiles) *cfgpkg.Config {
	cfg := cfgpkg.Default()
	cfg.File = "built-in"
	cfg.WatchInterval = 0
	cfg.Listen = listens
	cfg.AllowOrigins = origins
	for _, a := range listens {
		if addr, err := transport.ParseAddress(a); err == nil && !files.IsZero() && tlsSchemes[addr.Scheme] {
			cfg.ListenTLS[a] = files
		}
	}
	for name, module := range builtinModules {
		cfg.Services[name] = &cfgpkg.Service{Name: name, Provider: cfgpkg.ProviderLocal, Module: module}
	}
	return cfg
}

// tlsSchemes are the schemes of the listeners --cert, --key and --ca
// apply to.
var tlsSchemes = map[string]bool{"tls": true, "wss": true, "quic": true}

// loadConfig loads the config file at path.
func loadConfig(path string) (*cfgpkg.Config, error) {
	cfg, err := cfgpkg.Load(path)
	if err != nil {
		// A config that does not parse names its file, line and key.
		if errors.Is(err, cfgpkg.ErrInvalid) {
			return nil, usageErrorf("serve: %v", err)
		}
		return nil, usageErrorf("serve: --config: %v", err)
	}
	if len(cfg.Listen) == 0 {
		// Not defaulted here: a reload of the file would drop the default.
		return nil, usageErrorf("serve: %s lists no addresses to listen on (add listen = [%q])", path, defaultListens[0])
	}
	return cfg, nil
}

// serveService serves cfg with package service until ctx ends or its
// session over stdio ends, then shuts down within shutdownTimeout. With
// path, the file cfg comes from, it reloads the file when it changes or
// on SIGHUP; without, SIGHUP reloads the listeners' certificate files.
// The server takes extra options after its own.
func serveService(ctx context.Context, log *slog.Logger, cfg *cfgpkg.Config, path string, shutdownTimeout time.Duration, metricsAddr string, extra ...service.Option) error {
	// What it logs until it listens waits: if it fails, its error is all
	// that is printed.
	held := newHoldHandler(log.Handler())
	defer held.drop()
	log = slog.New(held)
	slog.SetDefault(log) // for the built-in modules
	stdioEnded := make(chan struct{})
	var stdioOnce sync.Once
	opts := []service.Option{service.WithLogger(log),
		service.WithListenOptions(webOptions(web.Handler(), log.With("type", "listener"))...),
		service.WithSessionEnded(func(listen string) {
			if listen == "stdio:" {
				stdioOnce.Do(func() { close(stdioEnded) })
			}
		})}
	if metricsAddr != "" {
		m := &metrics.Metrics{}
		stop, err := serveMetrics(metricsAddr, m, log)
		if err != nil {
			return fmt.Errorf("serve: --metrics: %w", unwrapOp(err))
		}
		defer stop()
		opts = append(opts, service.WithMetrics(m))
	}
	srv, err := service.New(cfg, append(opts, extra...)...)
	if err != nil {
		if errors.Is(err, service.ErrUnknownModule) { // a mistake in the file, which the error names
			return usageErrorf("serve: %v", err)
		}
		return fmt.Errorf("serve: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Close()
		return listenError(err)
	}
	held.release()
	srv.WatchConfig(ctx, path)
	select {
	case <-ctx.Done():
		log.Info("shutting down", "type", "server", "reason", context.Cause(ctx))
	case <-stdioEnded:
		log.Info("shutting down", "type", "server", "reason", "the stdio session ended")
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("calls still in flight were cut short", "type", "server", "timeout", shutdownTimeout.String())
	}
	log.Info("stopped", "type", "server")
	return nil
}

// listenError returns the error of serve for the error of Start.
func listenError(err error) error {
	var le *service.ListenError
	switch {
	case !errors.As(err, &le):
		return fmt.Errorf("serve: %w", unwrapOp(err))
	case errors.Is(err, transport.ErrBadOriginPattern):
		return usageErrorf("serve: --allow-origin: %v", le.Err)
	case errors.Is(err, transport.ErrBadAddress):
		return addressError("serve", le.Err)
	case errors.Is(err, transport.ErrUnsupported):
		return usageErrorf("serve: cannot listen on %s: %v", le.Addr, le.Err)
	}
	return fmt.Errorf("serve: cannot listen on %s: %w", le.Addr, unwrapOp(le.Err))
}

// webOptions are the options of a listener that serves page to browsers
// and logs to log the WebSocket upgrades refused for their origin.
// Listeners of other schemes than ws and wss ignore them.
func webOptions(page http.Handler, log *slog.Logger) []transport.Option {
	return []transport.Option{
		transport.WithHTTPHandler(page),
		transport.WithOriginRefused(func(origin string, r *http.Request) {
			log.Warn("websocket origin refused", "origin", origin, "host", r.Host, "remote", r.RemoteAddr)
		}),
	}
}

// unwrapOp returns the system's reason of a *net.OpError in err, or err.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}
