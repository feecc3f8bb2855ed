// Package demo holds the built-in services of "qtalk serve", which mounts
// them as modules of package talk/service when no configuration says
// otherwise (cmd/qtalk/modules.go); New bundles them in one handler, for
// tests and examples that serve them without a service server:
//
//	echo:echo        any value v                 replies v
//	chat:send        [user, text]                posts a message, replies it
//	chat:history     []                          the last HistorySize messages
//	chat:subscribe   [user]                      streams events: "joined" and "left"
//	                                             as subscribers come and go, "message"
//	                                             for each message sent
//	kv:get           [key]                       the value, or not_found
//	kv:set           [key, value]                stores any value
//	kv:delete        [key]                       removes it, or not_found
//	kv:list          []                          the keys, sorted
//	check:...        see package check           the interop check protocol
//	qtalk:labels     anything                    the selectors above, sorted
//
// Echo takes its argument as one value. The chat and kv services are
// served with package fn, so their arguments are arrays of the parameters
// (fn's wire convention).
//
// The services log through the *slog.Logger given to New, with the
// attributes type=service and id=<name>.
package demo
