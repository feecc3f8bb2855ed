// Package mux defines the multiplexing API that every layer of qtalk is
// written against: a Session carries many full-duplex Channels over one
// underlying connection.
//
// # Implementations
//
// Package mux/qmux implements Session over any byte stream (TCP, Unix
// sockets, WebSocket, the stdio of a child process); package mux/quic
// implements it over QUIC, where each Channel is a QUIC stream. Code above
// this package depends only on these interfaces, so transports swap freely.
//
// # Channels are net.Conns
//
// A Channel is a net.Conn with an ID and a half-close (CloseWrite), so it
// works with any library that takes a net.Conn. Listener turns a Session into
// a net.Listener, for example to run http.Serve over channels.
//
// # Optional interfaces
//
// More interfaces serve callers that can use them: an EarlyOpener session
// (qmux's and mux/quic's) opens a channel without waiting for the peer's
// answer, a refusal showing in the channel's Reads and Writes instead; a
// BuffersWriter channel (qmux's) writes several buffers as one Write
// without copying them together; a WriteDoneChannel (qmux's and
// mux/quic's) signals when its writes are over for good, the peer's Close
// included; a ReadNotifier channel (qmux's) calls a function once a Read
// would not wait, without a goroutine waiting in one; a TryAccepter
// session (qmux's) takes a channel the peer opened without waiting.
// Package rpc uses all five.
//
// # Errors
//
// Errors are reported with sentinel values that work with errors.Is:
// ErrSessionClosed once the session has ended (wrapping the cause),
// ErrOpenRejected when the peer refuses a channel, ErrChannelClosed after
// Close, ErrProtocol when the peer breaks the protocol. Reading after the
// peer's half-close gives io.EOF; an expired deadline gives
// os.ErrDeadlineExceeded, which is a net.Error whose Timeout method reports
// true.
package mux
