// Package service runs qtalk servers from a config (package config): the
// server that `qtalk serve --config qtalk.toml` starts.
//
//	cfg, err := config.Load("qtalk.toml")
//	srv, err := service.New(cfg, service.WithLogger(logger))
//	srv.WatchConfig(ctx, "qtalk.toml") // reload on SIGHUP and on change
//	err = srv.Serve(ctx)               // until ctx ends
//
// # Labels and services
//
// Clients call labels (package label): chat:send is the procedure send of
// the service chat. A Server routes every call by its label to a service
// of its config, and a service is either local, a module compiled into
// the program, or upstream, another server it forwards the calls to.
// Services are namespaces: chat:send and guild:send are different
// procedures, even of the same module. Parameters (guild:write?id=7) do
// not take part in routing; handlers read them with talk.LabelOf.
//
// # Modules
//
// A module is a bundle of rpc procedures and raw-channel handlers that
// registers itself by import path from an init function, as database/sql
// drivers do:
//
//	func init() {
//		service.RegisterModule("example.net/chat", func(m *service.Module) error {
//			m.HandleFunc("send", send)
//			m.HandleChannel("tail", tail) // opened with talk.OpenChannel
//			return nil
//		})
//	}
//
// and a config mounts it: chat = { provider = "local", module =
// "example.net/chat" }. Each service of a module gets a Module of its own,
// with its lifecycle apart from the connections of its clients: it opens
// when its factory returns, and closes when it calls Close or the server
// closes it. Modules Emit events of their own.
//
// # Events
//
// The built-in label qtalk:subscribe, with a service name as argument,
// streams the events of that service (Subscribe is the client side):
// first its current state, then every change and every event its module
// emits, named service/event: chat/open, chat/close, chat/message. An
// upstream service opens when its upstream is connected and says the
// service is open, and closes when the connection drops; clients coming
// and going, and a subscriber's own connection, change nothing.
//
// # Upstreams
//
// A call to an upstream service is forwarded with rpc.Client.Forward (on
// a channel opened ahead, so that a hop costs no open round trip) at the
// channel level, under the upstream's name for the service: guild:write
// goes upstream as guild-service:write, and unary calls, streams, raw
// channels, cancellation and deadlines cross unchanged, through as many
// proxies as there are. Each provider (upstream address) has one session,
// dialed on first use and redialed with backoff when it drops: calls in
// the meantime fail with rpc.CodeUnavailable, the service emits
// guild/close, and once the upstream is back the calls go through again
// and guild/open follows.
//
// # Many endpoints
//
// A provider may be a list of addresses, or a DNS name whose records give
// them: "dns://name:port" (A and AAAA records) or
// "dns+srv://_service._proto.name" (SRV: targets, ports, priorities,
// weights), resolved again when the smallest TTL of the answer's records
// runs out (at least 1s), or after resolve_every if that comes first
// (WithResolver sets the net.Resolver whose Dial reaches the name
// servers; the lookups are the Go resolver's, which reads the TTLs).
// A DNS provider's endpoints are dialed with its scheme (tcp, tls or
// quic); over TLS the certificate must hold the SRV target, or the
// dns:// name. Each endpoint has its own pool (one session) and
// breaker (the service's own breaker counts only the calls that no
// endpoint could take: an endpoint that dies with calls in flight fails
// them and counts them against its own breaker, not the service's), and
// is pinged every health_every; a call goes to an endpoint of the lowest
// SRV priority that is neither ejected nor down, by the
// policy balance: round_robin (by SRV weight), least_outstanding, or
// hash on the label parameter hash_param (rendezvous hashing: a key
// stays on its endpoint while that one is healthy). An ejected endpoint
// gets one call (or ping) as a probe once its cooldown is over. A call
// that was not started at one endpoint (its session is down, the open
// was refused) goes to another, idempotent or not. An endpoint that
// leaves the DNS answer is drained: its calls in flight finish, new
// calls go elsewhere. qtalk:services lists every endpoint with its state
// and calls in flight (EndpointInfo).
//
// # Process services
//
// An exec provider ("exec:./worker") is a child program the server
// supervises, with the session over its stdin and stdout; so is a
// service built from source (src = "example.net/chat@v1.0.2"), whose
// program `go install` builds once into the cache directory (cache_dir)
// with the configured module proxy, and is found there by the next
// start. The child starts at the first call or subscription, or with the
// server (start = "startup"). When it exits it is started again after a
// wait that doubles from reconnect_min to reconnect_max, with jitter,
// and starts over only after a run that lasted reconnect_max: a child
// that exits at once is not restarted in a loop, and the calls meanwhile
// fail with rpc.CodeUnavailable. A child that does not answer qtalk:ping
// within ping_timeout (sent every ping_interval) is hung, and is stopped
// and started again. Each line of its stderr is logged under the
// service's id; qtalk:services tells its pid, restarts and last exit
// (ProcessInfo). Close stops the children in the reverse order of their
// first starts, each with SIGTERM, then SIGKILL after stop_timeout.
//
// Per service, the config sets a timeout, a circuit breaker (after so
// many failures in a row, calls fail at once for a cooldown, then one
// call probes the upstream), a fallback service, and retries for
// idempotent calls: those matching the service's idempotent names, or
// sent with the metadata MetadataIdempotent ("qtalk-idempotent": "1"). A
// call is tried again, or handed to the fallback, only if it cannot have
// run upstream (it was never sent) or it is idempotent.
//
// A label may name an upstream directly by host:
// example.net/guild-service:write reaches the upstream service
// guild-service of the service whose host setting, or provider address,
// is example.net. Only
// configured upstreams are reachable that way: any other host is refused
// with rpc.CodePermissionDenied, so a server is never an open relay.
//
// # Built-in labels
//
// Besides qtalk:subscribe, qtalk:labels lists the labels the server
// offers, local and upstream, as a []string (what `qtalk ls` shows), and
// qtalk:services describes the services.
//
// # Reloading
//
// Reload applies a new config while the server runs: added, removed and
// changed services take effect, and so do listen addresses, the web
// origins allowed on ws listeners (allow_origins) and limits,
// while the services that did not change keep their calls, streams and
// upstream sessions. A config that cannot be applied changes nothing.
// WatchConfig reloads the config file on SIGHUP and when its content
// changes, logging a config it rejects and keeping the one in effect.
//
// # Logging
//
// The server logs with log/slog (WithLogger): listeners, reloads,
// services opening and closing, upstreams coming and going, breakers
// opening and closing. Every record has the attributes type and id, the
// kind of thing it is about and its name.
package service
