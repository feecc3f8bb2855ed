package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/qtalkkit/qtalk/internal/demo"
	"github.com/qtalkkit/qtalk/internal/web"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/metrics"
	"github.com/qtalkkit/qtalk/transport"
)

var cmdServe = &command{
	name:    "serve",
	args:    "",
	summary: "run a server: the built-in services, or those of a config file",
	help: `
Serve runs a server on every --listen address (by default
tcp://127.0.0.1:4242 and ws://127.0.0.1:4243/qtalk) until SIGINT or
SIGTERM, then shuts down gracefully: streams end, calls in flight get
--shutdown-timeout to finish, and the sessions are closed. A second signal
ends the process at once.

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

Without --config it serves the built-in services: echo:echo, chat:send,
chat:history, chat:subscribe, kv:get, kv:set, kv:delete, kv:list, the
pub/sub hub (pubsub:publish, pubsub:retain, pubsub:subscribe; see package
pubsub), the
interop check protocol (check:*, see qtalk check), qtalk:ping (see qtalk
ping) and qtalk:labels, which lists them. It logs to stderr, one INFO line per listener with the address
it listens on ("listening addr=tcp://127.0.0.1:4242": with port 0, the
port the system chose), and one as each session opens and closes. With
--listen stdio:, stdout carries the session and nothing else is written
to it; the server stops when that session ends, so a parent can run it
with exec:.

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
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("serve: unexpected argument %q (addresses go in --listen)", pos[0])
	}
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
		return serveConfig(ctx, f.logger(e), *config, *shutdownTimeout, *metricsAddr)
	}
	if len(listens) == 0 {
		listens = defaultListens
	}
	for _, a := range listens {
		if err := checkAddress("serve", a); err != nil {
			return err
		}
	}
	certs, err := loadTLS("serve", tlsFiles)
	if err != nil {
		return err
	}
	log := f.logger(e)
	app := demo.New(log)
	s := &server{log: log, handler: app.Handler(), closeStreams: app.Close, what: "the built-in services", labels: len(app.Labels()), origins: origins, certs: certs}
	if *metricsAddr != "" {
		s.metrics = &metrics.Metrics{}
		stop, err := serveMetrics(*metricsAddr, s.metrics, log)
		if err != nil {
			return fmt.Errorf("serve: --metrics: %w", unwrapOp(err))
		}
		defer stop()
	}
	return s.serve(ctx, listens, *shutdownTimeout)
}

// A server serves a handler on listeners and tracks the sessions it
// accepted, to log them and close them when shutdown times out.
//
// It runs its own accept loops around rpc.Server.ServeSession rather than
// rpc.Server.Serve, whose tracking of sessions races with Shutdown.
type server struct {
	log          *slog.Logger
	handler      rpc.Handler
	closeStreams func()               // ends the long calls (subscriptions) at shutdown
	what         string               // what handler serves, for the log
	labels       int                  // how many labels it serves, for the log
	origins      []string             // the patterns of the web origins allowed besides the listeners' own
	certs        *transport.CertFiles // the certificate of the TLS listeners (--cert, --key, --ca), or nil
	metrics      *metrics.Metrics     // counts the calls and sessions (--metrics), or nil

	srv rpc.Server

	mu       sync.Mutex // guards the fields below
	closing  bool       // no session is served after it is set
	nextID   int
	sessions map[*session]struct{}
	served   sync.WaitGroup // the goroutines serving sessions; Add under mu, unless closing

	stdioOnce  sync.Once
	stdioEnded chan struct{} // closed when a session over stdio ended
}

// serve listens on addrs and serves until ctx is done, a stdio session
// ends or a listener fails, then shuts down.
func (s *server) serve(ctx context.Context, addrs []string, shutdownTimeout time.Duration) error {
	s.sessions = map[*session]struct{}{}
	s.stdioEnded = make(chan struct{})
	s.srv.Handler = logCalls(s.handler, s.log)
	if s.metrics != nil {
		s.srv.Handler = rpc.Intercept(s.srv.Handler, s.metrics.Interceptor())
	}
	s.srv.BaseContext = func(sess mux.Session) context.Context {
		if ts, ok := sess.(*session); ok {
			return withLogger(context.Background(), ts.log)
		}
		return context.Background()
	}

	type listener struct {
		transport.Listener
		stdio bool // its session ends the server when it ends
	}
	var lns []listener
	page := web.Handler()
	for i, addr := range addrs {
		opts := append(webOptions(page, s.log.With("type", "listener", "id", i+1)), transport.WithAllowedOrigins(s.origins...))
		if s.certs != nil {
			opts = append(opts, transport.WithTLSConfig(s.certs.ServerConfig()))
		}
		ln, err := transport.Listen(ctx, addr, opts...)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			switch {
			case errors.Is(err, transport.ErrBadOriginPattern):
				return usageErrorf("serve: --allow-origin: %v", err)
			case errors.Is(err, transport.ErrBadAddress):
				return addressError("serve", err)
			case errors.Is(err, transport.ErrUnsupported):
				return usageErrorf("serve: cannot listen on %s: %v", addr, err)
			}
			return fmt.Errorf("serve: cannot listen on %s: %w", addr, unwrapOp(err))
		}
		a, _ := transport.ParseAddress(addr)
		lns = append(lns, listener{ln, a.Scheme == "stdio"})
		s.log.Info("listening", append([]any{"type", "listener", "id", i + 1, "addr", listenedAddr(a, ln.Addr())}, fingerprintAttr(ln)...)...)
	}
	s.log.Info("serving "+s.what, "type", "server", "labels", s.labels)

	stop, stopAccepting := context.WithCancel(context.Background())
	defer stopAccepting()
	if s.certs != nil {
		defer reloadOnHangup(s.certs, s.log)()
	}
	failed := make(chan error, len(lns))
	var loops sync.WaitGroup
	for _, ln := range lns {
		loops.Go(func() {
			defer ln.Close()
			if err := s.accept(stop, ln, ln.stdio); err != nil {
				failed <- err
			}
		})
	}
	var failure error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "type", "server", "reason", context.Cause(ctx))
	case <-s.stdioEnded:
		s.log.Info("shutting down", "type", "server", "reason", "the stdio session ended")
	case err := <-failed:
		failure = fmt.Errorf("serve: %w", err)
		s.log.Error("shutting down", "type", "server", "reason", "a listener failed", "err", err)
	}

	// Stop taking sessions and calls, end the streams, give the calls in
	// flight shutdownTimeout to finish, then close what is left.
	stopAccepting()
	loops.Wait()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.closeStreams()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	err := s.srv.Shutdown(sctx)
	cancel()
	if err != nil {
		s.log.Warn("calls still in flight: closing their sessions", "type", "server", "timeout", shutdownTimeout, "sessions", s.open())
		s.closeSessions()
	}
	s.served.Wait()
	s.log.Info("stopped", "type", "server")
	return failure
}

// fingerprintAttr returns the log attribute of the fingerprint of a TLS
// listener's certificate, which clients pin (?pin=), or nothing for other
// listeners.
func fingerprintAttr(ln transport.Listener) []any {
	if f, ok := ln.(transport.Fingerprinter); ok && f.Fingerprint() != "" {
		return []any{"fingerprint", f.Fingerprint()}
	}
	return nil
}

// reloadOnHangup reloads the certificate files at each SIGHUP and logs
// the outcome, until the function it returns is called.
func reloadOnHangup(certs *transport.CertFiles, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-hup:
				if err := certs.Reload(); err != nil {
					log.Error("certificate reload failed: the certificate loaded before stays", "type", "server", "err", err)
					continue
				}
				log.Info("certificate reloaded", "type", "server", "fingerprint", certs.Fingerprint())
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(hup)
		close(done)
		wg.Wait()
	}
}

// webOptions are the options of a listener that serves page to browsers
// and logs to log the WebSocket upgrades refused for their origin, and
// what the listener rides out (accept failures, connections past a limit).
// Listeners of other schemes than ws and wss ignore them.
func webOptions(page http.Handler, log *slog.Logger) []transport.Option {
	return []transport.Option{
		transport.WithLogger(log),
		transport.WithHTTPHandler(page),
		transport.WithOriginRefused(func(origin string, r *http.Request) {
			log.Warn("websocket origin refused", "origin", origin, "host", r.Host, "remote", r.RemoteAddr)
		}),
	}
}

// accept serves the sessions of ln until stop is done or ln fails.
func (s *server) accept(stop context.Context, ln transport.Listener, stdio bool) error {
	for {
		sess, err := ln.Accept(stop)
		if err != nil {
			if stop.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			sess.Close()
			return nil
		}
		s.nextID++
		ts := &session{Session: sess, srv: s, start: time.Now()}
		ts.log = s.log.With("type", "session", "id", s.nextID)
		s.sessions[ts] = struct{}{}
		s.served.Add(1)
		s.mu.Unlock()
		ts.log.Info("session opened", "remote", sess.RemoteAddr().String())
		if s.metrics != nil {
			s.metrics.SessionOpened()
		}
		go func() {
			defer s.served.Done()
			s.srv.ServeSession(ts) // until the session ends, or Shutdown and its calls are done
			ts.Close()
			if stdio {
				s.stdioOnce.Do(func() { close(s.stdioEnded) })
			}
		}()
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

// listenedAddr returns the address a listens on, with the port the system
// chose when a asked for port 0.
func listenedAddr(a transport.Address, got net.Addr) string {
	switch got := got.(type) {
	case *net.TCPAddr, *net.UDPAddr: // tcp, tls, ws, wss; quic
		if a.Host != "" {
			a.Host = got.String()
		}
	}
	return a.String()
}

// open returns the number of sessions open.
func (s *server) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// closeSessions closes every session open, which cancels their calls.
func (s *server) closeSessions() {
	s.mu.Lock()
	open := make([]*session, 0, len(s.sessions))
	for ts := range s.sessions {
		open = append(open, ts)
	}
	s.mu.Unlock()
	for _, ts := range open {
		ts.Close()
	}
}

// A session is an accepted session that logs its end.
type session struct {
	mux.Session
	srv   *server
	log   *slog.Logger
	start time.Time
	once  sync.Once
}

// TLSConnectionState passes on the TLS state of the session underneath,
// so that handlers know who calls (rpc.Call.Peer).
func (ts *session) TLSConnectionState() (tls.ConnectionState, bool) {
	if s, ok := ts.Session.(mux.TLSSession); ok {
		return s.TLSConnectionState()
	}
	return tls.ConnectionState{}, false
}

func (ts *session) Close() error {
	err := ts.Session.Close()
	ts.once.Do(func() {
		s := ts.srv
		s.mu.Lock()
		delete(s.sessions, ts)
		s.mu.Unlock()
		ts.log.Info("session closed", "duration", time.Since(ts.start).Round(time.Millisecond))
		if s.metrics != nil {
			s.metrics.SessionClosed()
		}
	})
	return err
}

type loggerKey struct{}

func withLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

// logCalls logs every call h serves at the debug level, with the logger
// of the call's session.
func logCalls(h rpc.Handler, fallback *slog.Logger) rpc.Handler {
	return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		ctx := c.Context()
		log, ok := ctx.Value(loggerKey{}).(*slog.Logger)
		if !ok {
			log = fallback
		}
		if !log.Enabled(ctx, slog.LevelDebug) {
			h.RespondRPC(r, c)
			return
		}
		rec := &rpc.CodeRecorder{Responder: r}
		start := time.Now()
		h.RespondRPC(rec, c)
		log.Debug("call", "selector", c.FullSelector, "code", rec.Code.String(), "continued", rec.Continued, "duration", time.Since(start))
	})
}
