// Package config reads the configuration of a qtalk server, qtalk.toml:
// the addresses it listens on, its limits, and the services it offers.
//
//	listen = ["tcp://127.0.0.1:4242", "ws://127.0.0.1:4243/qtalk"]
//	allow_origins = ["localhost:5173"]
//
//	[limits]
//	max_sessions = 1000
//
//	[services]
//	chat   = { provider = "local", module = "example.net/chat" }
//	guild  = { provider = "tcp://guild.example.net:4242", service = "guild-service", timeout = "5s" }
//	worker = { provider = "exec:./worker" }
//	colors = { provider = "table", file = "colors.toml" }
//
// # Services
//
// Each key of the services table is a service: the module part of the
// labels it answers (chat:send). Its provider says where it runs:
//
//   - "local": in the server, from a module compiled in and named by its
//     import path (module = "example.net/chat"), with the free-form table
//     options handed to it;
//   - "table": in the server, answering get KEY and list (the keys, in
//     order) from the TOML or JSON file named by file (relative to the
//     config file's directory), read again when it changes;
//   - a transport address ("tcp://host:port", "unix:///run/s.sock",
//     "ws://host/path", "wss://...", "exec:command args", ...): upstream,
//     where the server forwards its calls. The upstream serves the
//     service under the name in service (by default the same name), so
//     a call of guild:write is forwarded as guild-service:write. An
//     address may name it with a "!name" suffix instead.
//
// Upstream services take these keys too: host, the host name that labels
// may give to reach the upstream directly (host/service:name; the
// provider's own host is always accepted); timeout, the longest one
// attempt of a call may take (each retry gets its own); retries, how many
// times an idempotent call is tried again when the upstream is
// unavailable; idempotent, the names (or prefixes
// ending in "*") of the calls that are idempotent; breaker, a table with
// failures (consecutive failures that open the circuit, 0 for none) and
// cooldown (how long it stays open before a probe). Any service may name
// a fallback: another service that gets the calls this one cannot take.
//
// An upstream's provider may also be a list of addresses, or a DNS name:
// "dns://name:port" (each A or AAAA record an endpoint at port) or
// "dns+srv://_service._proto.name" (each SRV target at its port, by
// priority and weight), dialed over TCP, or over the transport of scheme:
// "tls" or "quic", the upstream's certificate checked for the SRV target
// (or the dns:// name) against the service's ca, or the system's roots:
//
//	guild = { provider = "dns+srv://_qtalk._tcp.guild.internal", balance = "hash", hash_param = "user" }
//
// Such services take balance ("round_robin", the default,
// "least_outstanding" or "hash"), hash_param (the label parameter that
// hash hashes), resolve_every (the longest wait before the name is
// resolved again, default 5s; the smallest TTL of the answer's records
// shortens it, to no less than 1s) and health_every (how often each
// endpoint is pinged, default 5s, "0s" for never); breaker then applies
// to each endpoint, and to the service only for calls that no endpoint
// could take.
//
// # Process services
//
// A service whose provider is "exec:command args", or that has src
// instead of a provider, runs a child program the server supervises,
// speaking qtalk over its stdin and stdout. src names a module's main
// package at a pinned version, "example.net/chat@v1.0.2" (or
// "example.net/chat#v1.0.2"; queries such as latest are refused), which
// the server builds with the go command, through the module proxy of its
// environment (GOPROXY), into the top-level cache_dir (by default the
// qtalk directory of the user's cache directory), once per
// module@version. Process services take start ("on_demand", the default,
// or "startup"), stop_timeout (from SIGTERM to SIGKILL, default 5s),
// ping_interval (how often the child is pinged, default 5s, "0s" for
// never) and
// ping_timeout (the answer's bound, after which the child counts as hung
// and is restarted, default 5s):
//
//	[services]
//	worker = { provider = "exec:./worker", start = "startup", ping_interval = "5s" }
//	chat   = { src = "example.net/chat@v1.0.2" }
//
// # TLS
//
// A listen address may be given as a table instead, with the PEM files of
// its TLS listener (tls, wss or quic): cert and key, the certificate
// chain and key it presents, and ca, the CAs whose client certificates it
// requires (mutual TLS):
//
//	listen = [{ addr = "wss://0.0.0.0:6002/qtalk", cert = "cert.pem", key = "key.pem", ca = "clients.pem" }]
//
// Upstream services take cert, key and ca too: the client certificate
// the server presents to the upstream, and the CAs it verifies the
// upstream's certificate against instead of the system roots. Services
// with the same provider must name the same files. Relative file names
// start at the directory of the config file. The files are read again
// when they change and on every reload.
//
// # Routes
//
// The routes table pipes raw byte streams, as `qtalk pipe` does (package
// relay): each route listens on from and forwards every connection to a
// new connection to to. A from with "!subport" is a listener whose
// clients name the subport in a preamble (spec/pipe.md); routes with
// other subports share it, and unknown subports are refused with a
// reason. A to with "!module:name" pipes the byte stream of that label's
// call on a qtalk server. max_conns bounds a route's connections at once
// and idle_timeout ends an idle one. A reload changes the routes without
// cutting the connections already piped.
//
//	[routes]
//	db    = { from = "ws://0.0.0.0:8080/db", to = "tcp://127.0.0.1:5432" }
//	files = { from = "tcp://0.0.0.0:4300!files", to = "unix:///run/files.sock", max_conns = 64, idle_timeout = "5m" }
//	logs  = { from = "tcp://0.0.0.0:4300!logs", to = "tcp://10.0.0.7:4242!logs:tail" }
//
// # Who may call
//
// Any service may take allow, the callers it admits: verified client
// certificate identities (the first URI SAN, such as
// "spiffe://example.org/app", or else the common name) and "token:NAME"
// for callers with the bearer token of NAME (package rpc/auth) in the
// file the top-level tokens names ("NAME TOKEN" lines). Other callers get
// permission_denied; a call with a token not in the file gets
// unauthenticated. Both are read again with the rest of the config.
//
//	tokens = "tokens.txt"
//	[services]
//	guild = { provider = "tls://guild.internal:4244", allow = ["spiffe://example.org/web", "token:ci"] }
//
// # Limits and the rest
//
// The limits table holds max_frame_size (the largest rpc frame accepted),
// max_sessions (client sessions at once, 0 for no limit), max_calls
// (calls in flight at once over all sessions, 0 for no limit),
// dial_timeout, reconnect_min and reconnect_max (the backoff between
// attempts to reach an upstream). The top-level watch_interval says how
// often the server checks the file for changes ("0s" for never).
//
// The top-level allow_origins lists the web origins whose pages may open
// WebSockets to the ws and wss listeners, besides the listener's own
// origin (a page it serves), which is always allowed; pages of other
// origins are refused with 403 Forbidden. Each pattern is matched with
// Go's path.Match, ignoring case, against the host and port of the
// page's origin ("localhost:5173", "*.example.com"), or against its
// scheme, host and port when it has "://" ("https://app.example.com").
// Durations are strings such as "500ms" or "1m30s".
//
// # Errors
//
// Parse and Load check everything they can without starting anything:
// syntax, types, unknown keys, names, addresses, references between
// services. The first problem found is returned as an *Error naming the
// file, the line and the key, which matches ErrInvalid.
package config
