// Command qtalk serves, calls and checks qtalk peers.
//
//	qtalk serve [--listen ADDR ...] [--config FILE]    run a server
//	qtalk call [--timeout D] [--meta k=v ...] [--codec C] ADDR LABEL [ARGS]
//	qtalk ls ADDR                                      list the labels of a server
//	qtalk describe ADDR LABEL                          the types of a label's fn handler
//	qtalk ping [--size N] [--count N] [--interval D] ADDR  round trips, like ping(8)
//	qtalk bench [--label L] [--duration D] [--concurrency N] [--size B] ADDR
//	qtalk check COMMAND|ADDR                           run the interop check
//
// Every command takes -v (debug logs), --log-format text|json and --help,
// which shows its flags and an example. Flags may come before or after the
// positional arguments; "--" ends them. Logs go to stderr, in the format
// of internal/logfmt or as JSON.
//
// # Serve
//
// Without --config, serve runs the built-in services of internal/demo
// (echo, chat, kv, the pubsub hub, the check protocol, qtalk:ping and
// qtalk:labels) on
// tcp://127.0.0.1:4242 and ws://127.0.0.1:4243/qtalk, or on the --listen
// addresses. It logs "listening addr=..." with the address each listener
// got (the chosen port for port 0), shuts down gracefully on SIGINT or
// SIGTERM, and, listening on stdio:, writes nothing but the session to
// stdout and stops when that session ends. Its ws and wss listeners serve
// the web page of internal/web on their other paths, and let pages of
// other origins open WebSockets if --allow-origin (repeatable) matches
// them; a refused origin is logged as a warning.
//
// With --config FILE, serve runs the services of a qtalk.toml with
// package talk/service instead; the built-in services are modules such a
// config can mount (see modules.go), and the file is reloaded when it
// changes.
//
// # Call
//
// Call sends ARGS (JSON; from stdin when ARGS is "-", or absent while
// stdin is not a terminal) with the JSON codec and prints the reply as
// JSON, a stream one value per line.
//
// # Ping
//
// Ping calls qtalk:ping, which every qtalk peer answers with its payload,
// every --interval, printing a line per reply and a min/avg/max/stddev
// summary of the round trips at the end, as ping(8) does.
//
// # Exit status
//
//	0        success
//	1        failure without an rpc code: cannot connect (no answer to qtalk:ping
//	         within --timeout or 10s, another protocol), I/O, a check case failed
//	2        usage: unknown command or flag, bad address, invalid JSON, bad config
//	10+code  a call failed with that rpc code: 11 canceled, 12 unknown,
//	         13 invalid_argument, 14 deadline_exceeded, 15 not_found,
//	         16 already_exists, 17 permission_denied, 18 resource_exhausted,
//	         19 failed_precondition, 20 aborted, 21 out_of_range,
//	         22 unimplemented, 23 internal, 24 unavailable, 25 data_loss,
//	         26 unauthenticated
//	130      interrupted by SIGINT or SIGTERM (call, ls, check; ping prints
//	         its summary and exits 0 if every ping sent was answered)
//
// Errors are reported on stderr in one line, such as
//
//	qtalk: call chat:nope: not_found: no handler for "chat:nope"
package main
