// Package qmux implements mux.Session with the qmux protocol over any
// reliable byte stream (an io.ReadWriteCloser): TCP, Unix sockets, a
// WebSocket, the stdio of a child process.
//
// qmux is the channel layer of SSH (RFC 4254) on its own: seven message
// types open, confirm, refuse, flow-control, carry data to, half-close and
// close channels. The protocol is described in spec/qmux.md in this
// repository; this package is wire-compatible with other qmux
// implementations.
//
// # Design
//
// Each Session runs one reader goroutine and one writer goroutine. The
// reader never waits for the application: opens beyond the accept backlog
// are refused with OPEN_FAILURE, and incoming data always fits in the
// channel's buffer because the peer may not send more than the window this
// side announced. When a Read is already waiting, the reader puts what the
// connection holds of a payload straight into the Read's buffer instead;
// it never waits for the rest there. On TCP and Unix sockets it reads with
// readv, so that the read completing a payload also brings the next
// message's header. The writer drains everything queued by all channels
// into as few writes to the connection as possible, taking at most one
// packet per channel per round so that busy channels share the connection
// fairly. A short Write that fits the peer's window is copied into the
// writer's queue and returns at once, so that messages written back to
// back (an rpc reply and its channel's CLOSE) leave in one write. On TCP
// and Unix sockets, a Read about to wait for data first writes what is
// queued itself, if the writer is idle, with a write that does not wait:
// a request then leaves without waking the writer, whose turn comes only
// for what the connection did not take. Woken for such short messages, the
// writer goroutine yields once before it takes its batch, so that
// goroutines already ready to run (the handlers of calls that came
// together) queue theirs into the same write; a timer bounds that yield,
// writing the batch itself if the writer's turn has not come back.
//
// On TCP and Unix sockets, once the reader goroutine has handed a short
// payload to a waiting Read, it lends its role of reading the connection
// (readrole.go): the next Read about to wait reads and dispatches the
// peer's messages itself, so that the network poller wakes the goroutine
// the reply is for instead of the reader goroutine, which would then wake
// it. Such a Read reads whole messages only, and gives the role back when
// it has its data and other Reads wait, when a message is longer than the
// input buffer, or when its deadline passes or its channel is closed; the
// role comes back to the reader goroutine within half a millisecond if no
// Read takes it, or at once for an Open or a Write waiting for the peer.
// A Read that has waited 5 ms waits for events (a long-lived stream), not
// a reply: it neither keeps the role from being lent nor, holding it,
// keeps it from the next Read about to wait.
//
// A session carrying one call at a time is quiet (quiet.go): few channels
// are open and the reader goroutine has lent its role. There the short
// messages of a call (an early OPEN, a short Write, a channel's CLOSE, the
// confirmation of an open read with the call's data) do not wake the
// writer goroutine: the goroutine that queued them writes them at its next
// Read about to wait, Close or Accept, or a timer does a millisecond
// later (and the session is then not quiet for a while: a goroutine that
// writes and waits elsewhere, a handler streaming events, does not wait
// for it again). A channel the peer opened with a call's data likewise waits
// for the goroutine that read it to take it with TryAccept
// (mux.TryAccepter), as rpc's server does once done with a call, rather
// than waking Accept. Between processes each such wake-up would wake a
// thread onto the other CPU; without them a call's request, handler and
// reply run on the thread the network poller woke for the request.
//
// Session.OpenEarly (mux.EarlyOpener) queues an OPEN without waiting for
// the answer; data written to the channel waits for the confirmation. rpc
// opens the channel of its next call this way, so that the OPEN leaves
// with the current call's data instead of a write of its own.
//
// The CLOSE answering the peer's only lets the peer free its channel
// number: it waits for the next write, made for anything else, and wakes
// the writer for a write of its own only after a few milliseconds. The
// client of a unary call then answers the server's CLOSE with its next
// call's data, instead of with a write (and a wake-up of the server's
// reader) of its own.
//
// # Reading the code
//
// A channel (channel.go) has a lifecycle, one state for the open and close
// handshakes, and two halves. The send half (send.go) takes a Write into
// the session's queues, which the writer role (writer.go) drains into
// batches on the connection; the reader goroutine (reader.go) parses what
// the peer sent and hands a channel's payloads to its receive half
// (recv.go), where Read takes them. Each fast path named above can be
// switched off (see speedup in config.go), and the tests run the mux
// conformance suite with each one off.
//
// # Flow control
//
// Every channel announces a receive window (Config.WindowSize) and buffers
// at most that many bytes. As the application reads, the consumed bytes are
// granted back to the peer in one WINDOW_ADJUST once they reach half the
// window, and a channel read as fast as it streams has its window doubled
// with each grant, up to Config.MaxWindowSize, so that it keeps streaming
// while its reader waits for a CPU. The channels of a session share a
// budget (Config.SessionWindowSize). A channel whose reader stops stalls
// only its own writer.
//
// # Errors
//
// A peer that breaks the protocol ends the session with an error matching
// mux.ErrProtocol (a *ForeignError when the peer's very first byte is no
// qmux message type: it speaks another protocol, and the error holds the
// start of what it sent); operations on an ended session fail with
// errors matching mux.ErrSessionClosed, and Session.Wait reports the
// cause.
package qmux
