// Package label parses and prints labels, the names clients open channels
// and make calls by:
//
//	chat:send
//	guild:write?id=7
//	example.net/guild-service:write
//
// A label is a module (the namespace a server mounts a service under), a
// name within it, an optional host in front and optional parameters at
// the end. On the wire a label is the rpc selector itself: a call to the
// label chat:send?room=7 is a call with that selector. The grammar, the
// escaping of parameters and the mapping to selectors are specified in
// spec/labels.md.
//
// # Parsing and printing
//
// Parse checks a string against the grammar and returns a Label; String
// prints it back in canonical form, so for any s that parses,
// Parse(l.String()) returns l again. Hosts are case-insensitive and
// printed in lower case; parameters keep their order and their
// repetitions, and are printed percent-encoded where needed.
//
// # Matching
//
// A Matcher decides whether a label matches a route. The built-in
// matchers look at the name only (the module is matched first, by the
// router) and ignore the parameters, which are for the handler to read:
// Exact matches one name, Prefix every name that starts with a prefix,
// and MatchFunc adapts any function, which may look at the parameters
// too.
//
// # Errors
//
// A string that does not parse gives a *SyntaxError naming the part that
// is wrong (host, module, name or params) and where; it matches
// ErrInvalid with errors.Is.
package label
