// Package grid links a fixed set of qtalk servers, the hosts of a cluster,
// so that each can call and serve the others over one persistent session
// per pair of hosts.
//
// A Manager is made from a Config that names this host (Self, the address
// it listens on) and every host of the cluster (Hosts). Start listens and
// keeps one link per other host; Connection returns the handle to call a
// host with:
//
//	m, err := grid.New(grid.Config{Self: "tcp://10.0.0.1:7000", Hosts: hosts})
//	m.Handle("lock", lock)             // every host serves the same names
//	err = m.Start(ctx)
//	c, err := m.Connection("tcp://10.0.0.2:7000")
//	reply, err := c.Request(ctx, "lock", payload)
//
// # Links
//
// Each pair of hosts shares exactly one session. Which of the two dials is
// decided from their two addresses alone (see spec/grid.md), so both know
// it without talking and two hosts that start at once form no duplicate.
// The dialing side redials with exponential backoff and jitter after a
// failure; the other side waits to be dialed. Both sides ping the link
// every PingInterval, and a ping without an answer within PingTimeout
// ends the session: a peer that went silent without closing anything
// (stopped, or cut off) is found within PingInterval+PingTimeout.
//
// A link's State (connecting, connected, or disconnected with the error
// that ended it) is read with Connection.State and observed with
// Connection.Changed.
//
// # Requests and streams
//
// A request carries a []byte payload and gets a []byte reply (Handle,
// Connection.Request); Call and HandleFunc encode typed values with CBOR
// on top. A stream starts with a payload and then carries requests from
// the caller and responses from the handler, each way through a queue
// whose capacity the handler declares when it is registered
// (HandleStream): a side that does not read holds the other one up
// instead of buffering without bound.
//
// The caller's deadline travels with the request, and cancelling the
// caller's context cancels the handler's. While a link is down, requests
// fail at once with an error matching ErrUnavailable. When a link is lost,
// every request on it fails with ErrUnavailable within the ping bound,
// and the contexts of the handlers serving it on the other host are
// cancelled. For every error, rpc.CodeOf gives the rpc code:
// rpc.CodeUnavailable for a link that is down.
package grid
