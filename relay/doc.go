// Package relay forwards raw byte streams between addresses of any
// connector: it is what `qtalk pipe FROM TO` and the [routes] table of
// qtalk.toml run. (Package transport/pipe is something else: an in-memory
// net.Conn pair for tests.)
//
// # Joining two streams
//
// Join copies bytes both ways between two connections, each direction
// through one buffer of Config.BufferSize, passes a half-close on (the
// end of one side's bytes becomes a CloseWrite of the other, where the
// other can be half-closed), and closes both ends together when the two
// directions are done, one side fails, the connections sit idle for
// Config.IdleTimeout, or the context ends.
//
// # Addresses
//
// Dial connects to a target address in one of three ways, by its subport:
//
//   - no subport ("tcp://host:4000", "ws://host/path", "exec:cmd"): the
//     raw connection of transport.DialConn;
//   - a subport that is a label ("tcp://host:4242!files:upload"): a qtalk
//     session to the address and a call of that label whose continued
//     reply is a raw byte stream (rpc's Response.Conn);
//   - any other subport ("tcp://host:4300!files"): the raw connection,
//     opened with a preamble naming the subport to a listener of routes,
//     which accepts or refuses it with a reason (spec/pipe.md).
//
// # Routes
//
// A Router listens on the From addresses of its routes and forwards each
// connection to the route's To address. A From address with a subport
// ("tcp://0.0.0.0:4300!files") is a listener whose clients name the
// subport they want in the preamble; several routes may share it with
// different subports. Update replaces the routes in place: connections
// already piped go on, listeners no route uses any more close, new ones
// open. Each route may bound its connections at once (MaxConns) and how
// long a connection may sit idle (IdleTimeout).
//
// # Errors
//
// A refused preamble gives a *RefusedError matching ErrRefused; a
// preamble that is not one matches ErrBadPreamble; a connection idle too
// long ends with ErrIdle.
package relay
