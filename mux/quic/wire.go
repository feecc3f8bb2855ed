package quic

import quicgo "github.com/quic-go/quic-go"

// The open handshake: the opener's first byte on a new stream is an open
// header, which makes the stream visible to the peer. After headerOpen the
// opener waits for the acceptor's answer: headerConfirm once the channel
// is queued for Accept, or a refusal (the stream reset with codeRejected).
// After headerOpenEarly (Config.EarlyOpen) the opener does not wait, and
// the acceptor sends no answer: it queues the channel silently, or refuses
// it as it refuses the other. Any other header is a protocol error.
const (
	headerOpen      byte = 0x01 // open, answer wanted
	headerOpenEarly byte = 0x02 // open, no answer wanted
	headerConfirm   byte = 0x01 // the answer to headerOpen
)

// The headers as written: shared, never modified.
var (
	openHeader      = []byte{headerOpen}
	openEarlyHeader = []byte{headerOpenEarly}
	confirmHeader   = []byte{headerConfirm}
)

// readHeader reads the one byte of an open header or its answer.
func readHeader(str *quicgo.Stream) (byte, error) {
	var b [1]byte
	for {
		n, err := str.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// Stream error codes, sent in RESET_STREAM and STOP_SENDING frames.
const (
	// codeClosed: Channel.Close stops receiving (STOP_SENDING).
	codeClosed quicgo.StreamErrorCode = 0

	// codeRejected: the acceptor refuses an open because its backlog is
	// full (both directions).
	codeRejected quicgo.StreamErrorCode = 1

	// codeCancelled: the opener gave up before the answer (both
	// directions), or the acceptor drops a stream it cannot use.
	codeCancelled quicgo.StreamErrorCode = 2
)

// Connection error codes, sent in CONNECTION_CLOSE frames.
const (
	// codeSessionClosed: Session.Close.
	codeSessionClosed quicgo.ApplicationErrorCode = 0

	// codeProtocol: the peer broke the open handshake.
	codeProtocol quicgo.ApplicationErrorCode = 1
)

// cancelStream abandons both directions of str with code.
func cancelStream(str *quicgo.Stream, code quicgo.StreamErrorCode) {
	str.CancelWrite(code)
	str.CancelRead(code)
}
