package qmux

import (
	"encoding/binary"
	"fmt"

	"github.com/qtalkkit/qtalk/mux"
)

// Message types of the qmux protocol: the channel messages of SSH (RFC 4254
// section 5, where they are numbered 90 to 97) renumbered 100 to 106, with
// the same field layouts after the type byte minus the channel type, the
// failure reason and the requests. All integers are uint32 big-endian.
const (
	msgChannelOpen         = 100 // sender channel, initial window, max packet
	msgChannelOpenConfirm  = 101 // recipient channel, sender channel, initial window, max packet
	msgChannelOpenFailure  = 102 // recipient channel
	msgChannelWindowAdjust = 103 // recipient channel, bytes to add
	msgChannelData         = 104 // recipient channel, uint32 length, payload
	msgChannelEOF          = 105 // recipient channel
	msgChannelClose        = 106 // recipient channel
)

// maxHeaderLen is the longest fixed part of any message, type byte included
// (OPEN_CONFIRM).
const maxHeaderLen = 17

// headerLen returns the length of the fixed part of a message of type t,
// type byte included, or 0 for an unknown type. For DATA it covers the
// recipient channel and the payload length, not the payload.
func headerLen(t byte) int {
	switch t {
	case msgChannelOpen:
		return 13
	case msgChannelOpenConfirm:
		return 17
	case msgChannelOpenFailure, msgChannelEOF, msgChannelClose:
		return 5
	case msgChannelWindowAdjust, msgChannelData:
		return 9
	}
	return 0
}

// A frame is one decoded message header. Fields a message type lacks are zero.
type frame struct {
	typ       byte
	recipient uint32 // the receiver's channel number; for OPEN, unused
	sender    uint32 // the sender's channel number (OPEN, OPEN_CONFIRM)
	window    uint32 // initial window (OPEN, OPEN_CONFIRM) or bytes to add (WINDOW_ADJUST)
	maxPacket uint32 // OPEN, OPEN_CONFIRM
	length    uint32 // DATA payload length; the payload follows the header
}

// parseFrame decodes the header in b, which must hold headerLen(b[0]) bytes.
func parseFrame(b []byte) frame {
	f := frame{typ: b[0]}
	u := func(i int) uint32 { return binary.BigEndian.Uint32(b[1+4*i:]) }
	switch f.typ {
	case msgChannelOpen:
		f.sender, f.window, f.maxPacket = u(0), u(1), u(2)
	case msgChannelOpenConfirm:
		f.recipient, f.sender, f.window, f.maxPacket = u(0), u(1), u(2), u(3)
	case msgChannelWindowAdjust:
		f.recipient, f.window = u(0), u(1)
	case msgChannelData:
		f.recipient, f.length = u(0), u(1)
	default:
		f.recipient = u(0)
	}
	return f
}

// appendFrame appends the encoding of f's header to b. For DATA, the caller
// appends or writes the f.length payload bytes after it.
func appendFrame(b []byte, f frame) []byte {
	b = append(b, f.typ)
	switch f.typ {
	case msgChannelOpen:
		b = binary.BigEndian.AppendUint32(b, f.sender)
		b = binary.BigEndian.AppendUint32(b, f.window)
		b = binary.BigEndian.AppendUint32(b, f.maxPacket)
	case msgChannelOpenConfirm:
		b = binary.BigEndian.AppendUint32(b, f.recipient)
		b = binary.BigEndian.AppendUint32(b, f.sender)
		b = binary.BigEndian.AppendUint32(b, f.window)
		b = binary.BigEndian.AppendUint32(b, f.maxPacket)
	case msgChannelWindowAdjust:
		b = binary.BigEndian.AppendUint32(b, f.recipient)
		b = binary.BigEndian.AppendUint32(b, f.window)
	case msgChannelData:
		b = binary.BigEndian.AppendUint32(b, f.recipient)
		b = binary.BigEndian.AppendUint32(b, f.length)
	default:
		b = binary.BigEndian.AppendUint32(b, f.recipient)
	}
	return b
}

// protocolError returns an error that matches mux.ErrProtocol.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: qmux: "+format, append([]any{mux.ErrProtocol}, args...)...)
}
