// Package quic implements mux.Session over a QUIC connection
// (github.com/quic-go/quic-go): each Channel is a bidirectional QUIC
// stream, so channels have their own flow control and a lost packet
// stalls only the streams whose data it carried.
//
// Dial, Listen and New make sessions from UDP addresses and TLS configs.
// Package transport/quic serves them for quic:// addresses, with the
// certificate options of package transport:
//
//	import _ "github.com/qtalkkit/qtalk/transport/quic"
//
//	ln, err := transport.Listen(ctx, "quic/*4:4433")
//	sess, err := transport.Dial(ctx, "quic://host:4433?pin=sha256:...")
//
// # The open handshake
//
// A QUIC stream becomes visible to the peer only when something is sent on
// it, and a QUIC peer cannot refuse a stream. So that Accept sees a
// channel as soon as it is opened, before any application data, and so
// that an open can be refused, qtalk adds a small convention of its own;
// both ends must follow it, that is, both must be qtalk:
//
//  1. The opener opens a bidirectional stream and sends one byte, the
//     open header: 0x01 (open, answer wanted), or 0x02 (open, no answer
//     wanted) with Config.EarlyOpen.
//  2. The acceptor reads the header, in a goroutine per stream so that
//     no opener holds up the session. If Accept's backlog
//     (Config.AcceptBacklog) has room, it queues the channel and, after
//     0x01, answers with the byte 0x01; Open returns once the answer
//     arrives. While the backlog is full, up to as many opens again wait
//     unanswered until Accept makes room; beyond those, the stream is
//     reset in both directions (RESET_STREAM and STOP_SENDING) with error
//     code 1, and Open fails with an error matching mux.ErrOpenRejected.
//  3. If the opener's context is done before the answer, it resets the
//     stream in both directions with code 2; the acceptor drops the
//     stream, or, if it had already queued it, the application reads
//     io.EOF from it.
//
// An open header other than 0x01 or 0x02, or an answer other than 0x01,
// ends the session with CONNECTION_CLOSE code 1, and an error matching
// mux.ErrProtocol.
//
// With Config.EarlyOpen, the opener sends 0x02 and does not wait: Open
// returns once the header is sent, saving a round trip per channel, and
// the acceptor sends no answer, so the first bytes the channel reads are
// the peer's data. A refusal (a reset with code 1, or code 2 from an
// acceptor whose session is closing) makes the channel's first Read, or a
// Write once the refusal has arrived, fail with mux.ErrOpenRejected,
// instead of Open. An early opener may also close the channel before the
// acceptor has queued it (STOP_SENDING with code 0); the acceptor queues
// it all the same, and its application reads what was written, then
// io.EOF. The header tells the acceptor whether to answer, so ends with
// and without EarlyOpen work together. (A peer built before header 0x02
// existed takes it for a protocol error: with such a peer, leave
// EarlyOpen off.) Session.OpenEarly (mux.EarlyOpener) opens one channel
// this way whatever the Config; rpc uses it for the channels it opens
// ahead of calls.
//
// # Channels
//
// ID is the QUIC stream ID. CloseWrite sends the FIN after the data
// written so far. Close does too, and asks the peer to stop sending
// (STOP_SENDING with code 0): the peer reads everything Close's side
// wrote, then io.EOF, and its Writes fail with mux.ErrChannelClosed. A
// Write pending when CloseWrite or Close is called fails with
// mux.ErrChannelClosed; the bytes it reported written are delivered.
// Deadlines are the stream's, and an expired one gives
// os.ErrDeadlineExceeded.
//
// Flow control is quic-go's: each stream's receive window starts at
// 512 KiB and grows up to 6 MiB while the application keeps up with the
// data, the connection's from 768 KiB up to 15 MiB. An unread channel
// stalls its own writer, holding at most its window of the connection's.
//
// # Sessions
//
// Session.Close closes the connection with CONNECTION_CLOSE code 0 at
// once; the peer's session then ends, its Wait reporting an error that
// matches io.EOF and wraps the *quic.ApplicationError. Close does not
// deliver what the peer's application has not read by then: quic-go does
// not send stream data still unsent or unacknowledged after the close,
// and on the peer a stream's Read reports the connection's end before the
// data its stack holds but has not handed over. Nothing tells this side
// when the peer has read a stream: once a channel is closed, the peer's
// stack answers its STOP_SENDING itself. A caller that must know waits for
// the peer's Close, as mux.Session's Close describes.
// After the end, operations fail with errors matching mux.ErrSessionClosed.
// Keep-alive packets (Config.KeepAlivePeriod) keep an idle session up;
// a peer that vanishes ends it within Config.KeepAlivePeriod plus
// Config.KeepAliveTimeout (the names and defaults of qmux's keepalive),
// Wait reporting an error matching ErrKeepAliveTimeout that wraps a
// *quic.IdleTimeoutError. Config.IdleTimeout, which listeners of package
// transport/quic set, ends a session that has had no channel open and
// read no data for that long (keep-alives do not count), Wait reporting
// an error matching ErrIdleTimeout, qmux's mux.ErrIdleTimeout; the peer
// sees the session closed. quic-go's errors are matched with errors.As,
// never by their text.
//
// # TLS
//
// QUIC always runs TLS 1.3, here with the application protocol (ALPN)
// "qtalk". Listen takes the listener's certificate in its TLS config;
// without one it generates an ephemeral self-signed ECDSA P-256
// certificate and reports its SHA-256 fingerprint with
// Listener.Fingerprint. The package prints nothing, so the program shows
// the fingerprint to whoever dials, who pins it: through package
// transport/quic with "?pin=sha256:<hex>" in the address, or, calling
// Dial, with a TLS config whose VerifyConnection checks it. Dial's
// tls.Config otherwise verifies the certificate as it says: by default
// against the system roots, which a self-signed certificate fails.
//
// quic-go itself logs once, with the standard log package, when it cannot
// enlarge the UDP socket buffers (see
// https://github.com/quic-go/quic-go/wiki/UDP-Buffer-Sizes); set
// QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=true in the environment to
// silence it.
package quic
