package quic

import quicgo "github.com/quic-go/quic-go"

// The open handshake: the opener's first byte on a new stream is
// headerOpen, which makes the stream visible to the peer; the acceptor
// answers with headerConfirm once the channel is queued for Accept, or
// refuses the stream with codeRejected.
const (
	headerOpen    byte = 0x01 // version 1 of the convention
	headerConfirm byte = 0x01
)

// The headers as written: shared, never modified.
var (
	openHeader    = []byte{headerOpen}
	confirmHeader = []byte{headerConfirm}
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
