// Package talk connects peers that both call and serve over one
// connection.
//
// A Peer is a mux.Session with an rpc client on it and an rpc server for
// the calls the other side opens on it. Neither side is the client or
// the server: each registers handlers on its Mux and calls the other's.
//
//	p, err := talk.Dial(ctx, "tcp://127.0.0.1:4000")
//	p.HandleFunc("client.notify", notify)  // the other side calls this
//	_, err = p.Call(ctx, "server.subscribe", topic, nil)
//
// # Making peers
//
// NewPeer makes a peer over any session (a qmux session over an
// in-memory pipe, for tests). Dial and Listen make peers over the
// transports of package transport, by address: tcp, unix, ws, wss, and
// the pair exec and stdio for a parent and its child process. Listener
// accepts peers; its Serve method runs a function for each and closes
// them all when it returns.
//
// # Callbacks
//
// A handler can call back the peer that called it, during the call,
// through Call.Caller (the peer's own client) or any reference to the
// Peer. The callback travels on a channel of its own, so it does not wait
// for the call in progress.
//
// # Parent and child processes
//
// A parent that dials "exec:cmd args" starts cmd with its stdin and
// stdout as the connection; the child makes its end with
// Dial(ctx, "stdio:"). Both can call each other. When the child exits,
// the parent's peer ends, and Wait reports a non-zero exit status with an
// error that wraps the *exec.ExitError; closing the parent's peer kills
// the child. The child must write nothing else on its stdout.
//
// # Ping
//
// Every peer answers the built-in label qtalk:ping (LabelPing) itself,
// whatever handler it serves: the reply is the payload of the call.
// Peer.Ping measures the round trip of a payload of a chosen size.
//
// # Reconnecting
//
// A peer dialed with WithReconnect outlives its sessions: when one ends,
// it dials again, waiting between attempts with exponential backoff and
// jitter. Calls made while it has no session fail at once with
// rpc.CodeUnavailable, or, with ReconnectConfig.WaitForSession, wait for
// the next one within their ctx. State and WatchState tell whether it is
// connected, connecting or disconnected (and why). A call that a draining
// server refused without running it goes over the next session.
//
// Shutdown ends a peer gracefully: it refuses the other side's new calls
// (they did not run), tells it with the built-in label qtalk:drain
// (LabelDrain), which a reconnecting peer answers once it has moved its
// calls to a new session, lets the calls in flight finish and closes the
// session. A server restarted that way fails none of a reconnecting
// client's calls.
//
// # Lifetime and errors
//
// A peer lives as long as its session. Close ends it and waits until its
// handlers have returned; the other side's peer then ends too. Wait
// reports why the session ended, and Context is cancelled when it does.
// Calls after the end fail with an error that matches
// mux.ErrSessionClosed, for which rpc.CodeOf reports rpc.CodeUnavailable.
// Errors of handlers reach the caller as *rpc.Error values. Every
// goroutine a peer starts has exited once Close or Wait returns.
package talk
