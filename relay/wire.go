package relay

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/qtalkkit/qtalk/transport"
)

// The preamble of spec/pipe.md: a client of a listener of subports sends
//
//	magic (4 bytes: 'q' 't' 'p' 0x01) | length (1 byte, 1..255) | subport
//
// and the listener answers one byte: answerAccept, after which the bytes
// of both sides are the piped stream, or answerRefuse, followed by a
// length (1 byte) and that many bytes of a UTF-8 reason, after which the
// listener closes the connection.
var magic = [4]byte{'q', 't', 'p', 1}

const (
	answerAccept byte = 0
	answerRefuse byte = 1

	maxSubportLen = 255
	maxReasonLen  = 255
)

// appendRequest appends the preamble naming subport, which must be valid
// and at most maxSubportLen bytes.
func appendRequest(b []byte, subport string) []byte {
	b = append(b, magic[:]...)
	b = append(b, byte(len(subport)))
	return append(b, subport...)
}

// readRequest reads a preamble from r and returns its subport. It reads
// no byte past the preamble.
func readRequest(r io.Reader) (string, error) {
	var head [len(magic) + 1]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return "", fmt.Errorf("%w: reading the magic and length: %w", ErrBadPreamble, err)
	}
	if [4]byte(head[:4]) != magic {
		return "", fmt.Errorf("%w: magic %q, want %q", ErrBadPreamble, head[:4], magic[:])
	}
	n := int(head[4])
	if n == 0 {
		return "", fmt.Errorf("%w: empty subport", ErrBadPreamble)
	}
	sub := make([]byte, n) // n <= 255
	if _, err := io.ReadFull(r, sub); err != nil {
		return "", fmt.Errorf("%w: reading the subport: %w", ErrBadPreamble, err)
	}
	if !transport.ValidSubport(string(sub)) {
		return "", fmt.Errorf("%w: bad subport %q", ErrBadPreamble, sub)
	}
	return string(sub), nil
}

// appendRefusal appends a refusal with reason, cut to maxReasonLen bytes
// at a rune boundary (an empty reason becomes "refused").
func appendRefusal(b []byte, reason string) []byte {
	if reason == "" {
		reason = "refused"
	}
	if len(reason) > maxReasonLen {
		cut := maxReasonLen
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	b = append(b, answerRefuse, byte(len(reason)))
	return append(b, reason...)
}

// readAnswer reads the listener's answer to the preamble naming subport:
// nil for an acceptance, a *RefusedError for a refusal.
func readAnswer(r io.Reader, subport string) error {
	var head [1]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return fmt.Errorf("relay: reading the answer to subport %q: %w", subport, err)
	}
	switch head[0] {
	case answerAccept:
		return nil
	case answerRefuse:
	default:
		return fmt.Errorf("%w: answer byte %#x", ErrBadPreamble, head[0])
	}
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return fmt.Errorf("%w: reading the reason's length: %w", ErrBadPreamble, err)
	}
	reason := make([]byte, head[0])
	if _, err := io.ReadFull(r, reason); err != nil {
		return fmt.Errorf("%w: reading the reason: %w", ErrBadPreamble, err)
	}
	return &RefusedError{Subport: subport, Reason: strings.ToValidUTF8(string(reason), "\uFFFD")}
}
