package qmux

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// The RFC 4254 channel messages as golang.org/x/crypto/ssh declares them
// (ssh/messages.go), minus the fields qmux drops (spec section 3), with the
// type byte in the sshtype tag mapped to the qmux numbers. ssh.Marshal and
// ssh.Unmarshal encode them field by field, independently of wire.go.
type (
	// SSH_MSG_CHANNEL_OPEN (90) without the channel type string and the
	// type-specific data.
	sshOpenMsg struct {
		PeersID       uint32 `sshtype:"100"` // sender channel
		PeersWindow   uint32
		MaxPacketSize uint32
	}

	// SSH_MSG_CHANNEL_OPEN_CONFIRMATION (91) without the type-specific data.
	sshOpenConfirmMsg struct {
		PeersID       uint32 `sshtype:"101"` // recipient channel
		MyID          uint32
		MyWindow      uint32
		MaxPacketSize uint32
	}

	// SSH_MSG_CHANNEL_OPEN_FAILURE (92) without reason, description and
	// language tag.
	sshOpenFailureMsg struct {
		PeersID uint32 `sshtype:"102"`
	}

	// SSH_MSG_CHANNEL_WINDOW_ADJUST (93), unchanged.
	sshWindowAdjustMsg struct {
		PeersID         uint32 `sshtype:"103"`
		AdditionalBytes uint32
	}

	// SSH_MSG_CHANNEL_DATA (94) as x/crypto/ssh declares it: the length
	// and the payload as separate fields.
	sshDataMsg struct {
		PeersID uint32 `sshtype:"104"`
		Length  uint32
		Rest    []byte `ssh:"rest"`
	}

	// SSH_MSG_CHANNEL_DATA (94) as RFC 4254 writes it: "uint32 recipient
	// channel, string data", the string being length-prefixed.
	sshDataStringMsg struct {
		PeersID uint32 `sshtype:"104"`
		Data    []byte
	}

	// SSH_MSG_CHANNEL_EOF (96), unchanged.
	sshEOFMsg struct {
		PeersID uint32 `sshtype:"105"`
	}

	// SSH_MSG_CHANNEL_CLOSE (97), unchanged.
	sshCloseMsg struct {
		PeersID uint32 `sshtype:"106"`
	}
)

// wireCase is one message: the qmux frame (and DATA payload), the SSH
// struct describing the same message, and an empty struct of the same type
// to unmarshal into.
type wireCase struct {
	f       frame
	payload []byte
	msg     any
	empty   func() any
}

// wireCases returns one case of each message type for the field values
// v[0..3] and payload p.
func wireCases(v [4]uint32, p []byte) []wireCase {
	return []wireCase{
		{
			f:     frame{typ: msgChannelOpen, sender: v[0], window: v[1], maxPacket: v[2]},
			msg:   &sshOpenMsg{PeersID: v[0], PeersWindow: v[1], MaxPacketSize: v[2]},
			empty: func() any { return new(sshOpenMsg) },
		},
		{
			f:     frame{typ: msgChannelOpenConfirm, recipient: v[0], sender: v[1], window: v[2], maxPacket: v[3]},
			msg:   &sshOpenConfirmMsg{PeersID: v[0], MyID: v[1], MyWindow: v[2], MaxPacketSize: v[3]},
			empty: func() any { return new(sshOpenConfirmMsg) },
		},
		{
			f:     frame{typ: msgChannelOpenFailure, recipient: v[0]},
			msg:   &sshOpenFailureMsg{PeersID: v[0]},
			empty: func() any { return new(sshOpenFailureMsg) },
		},
		{
			f:     frame{typ: msgChannelWindowAdjust, recipient: v[0], window: v[1]},
			msg:   &sshWindowAdjustMsg{PeersID: v[0], AdditionalBytes: v[1]},
			empty: func() any { return new(sshWindowAdjustMsg) },
		},
		{
			f:       frame{typ: msgChannelData, recipient: v[0], length: uint32(len(p))},
			payload: p,
			msg:     &sshDataMsg{PeersID: v[0], Length: uint32(len(p)), Rest: p},
			empty:   func() any { return new(sshDataMsg) },
		},
		{
			f:       frame{typ: msgChannelData, recipient: v[0], length: uint32(len(p))},
			payload: p,
			msg:     &sshDataStringMsg{PeersID: v[0], Data: p},
			empty:   func() any { return new(sshDataStringMsg) },
		},
		{
			f:     frame{typ: msgChannelEOF, recipient: v[0]},
			msg:   &sshEOFMsg{PeersID: v[0]},
			empty: func() any { return new(sshEOFMsg) },
		},
		{
			f:     frame{typ: msgChannelClose, recipient: v[0]},
			msg:   &sshCloseMsg{PeersID: v[0]},
			empty: func() any { return new(sshCloseMsg) },
		},
	}
}

// wireValues returns field values to encode: the edges and a few random
// ones.
func wireValues(r *rand.Rand) [][4]uint32 {
	vals := [][4]uint32{
		{0, 0, 0, 0},
		{1, 2, 3, 4},
		{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF},
		{0x80000000, 0x7FFFFFFF, 0x00FF00FF, 0xFF00FF00},
		{5, 9, 256 << 10, 32 << 10},
	}
	for range 50 {
		vals = append(vals, [4]uint32{r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32()})
	}
	return vals
}

// TestWireMatchesSSH checks every message's encoding byte for byte against
// ssh.Marshal of the corresponding RFC 4254 structure, and that
// ssh.Unmarshal reads qmux's encoding back into the same fields.
func TestWireMatchesSSH(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	payloads := [][]byte{nil, []byte("hi"), bytes.Repeat([]byte{0xAB}, 1000)}
	seen := map[byte]bool{}
	for _, v := range wireValues(r) {
		for _, p := range payloads {
			for _, c := range wireCases(v, p) {
				seen[c.f.typ] = true
				want := ssh.Marshal(c.msg)
				got := append(appendFrame(nil, c.f), c.payload...)
				if !bytes.Equal(got, want) {
					t.Fatalf("%T %+v:\nqmux %x\nssh  %x", c.msg, c.msg, got, want)
				}
				if n := headerLen(c.f.typ); len(got)-len(c.payload) != n {
					t.Fatalf("%T: header of %d bytes, headerLen says %d", c.msg, len(got)-len(c.payload), n)
				}
				back := c.empty()
				if err := ssh.Unmarshal(got, back); err != nil {
					t.Fatalf("ssh.Unmarshal(%x) into %T: %v", got, back, err)
				}
				// Marshal again to compare the decoded fields, since
				// Unmarshal turns a nil payload into an empty one.
				if again := ssh.Marshal(back); !bytes.Equal(again, want) {
					t.Fatalf("%T decoded from qmux bytes re-encodes as %x, want %x", back, again, want)
				}
			}
		}
	}
	if len(seen) != 7 {
		t.Fatalf("covered %d message types, want 7", len(seen))
	}
}

// TestWireSpecExamples checks the examples of spec section 2.
func TestWireSpecExamples(t *testing.T) {
	for _, tc := range []struct {
		f       frame
		payload string
		hex     string
	}{
		{frame{typ: msgChannelOpen, sender: 5, window: 262144, maxPacket: 32768}, "", "64 00000005 00040000 00008000"},
		{frame{typ: msgChannelOpenConfirm, recipient: 5, sender: 9, window: 262144, maxPacket: 32768}, "", "65 00000005 00000009 00040000 00008000"},
		{frame{typ: msgChannelData, recipient: 9, length: 2}, "hi", "68 00000009 00000002 6869"},
		{frame{typ: msgChannelWindowAdjust, recipient: 9, window: 2048}, "", "67 00000009 00000800"},
		{frame{typ: msgChannelEOF, recipient: 9}, "", "69 00000009"},
		{frame{typ: msgChannelClose, recipient: 9}, "", "6a 00000009"},
		{frame{typ: msgChannelOpenFailure, recipient: 5}, "", "66 00000005"},
	} {
		want, err := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		if got := append(appendFrame(nil, tc.f), tc.payload...); !bytes.Equal(got, want) {
			t.Errorf("%+v encodes as %x, want %x", tc.f, got, want)
		}
		n := headerLen(want[0])
		if got := parseFrame(want[:n]); got != tc.f {
			t.Errorf("%s parses as %+v, want %+v", tc.hex, got, tc.f)
		}
	}
}

// TestFrameRoundTrip checks parseFrame(appendFrame(f)) == f for every type.
func TestFrameRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, v := range wireValues(r) {
		for _, c := range wireCases(v, nil) {
			b := appendFrame(nil, c.f)
			if len(b) != headerLen(c.f.typ) {
				t.Fatalf("%+v encodes to %d bytes, headerLen says %d", c.f, len(b), headerLen(c.f.typ))
			}
			if got := parseFrame(b); got != c.f {
				t.Fatalf("parseFrame(appendFrame(%+v)) = %+v", c.f, got)
			}
			// appendFrame appends: a prefix is kept as is.
			prefix := []byte("prefix")
			if got := appendFrame(prefix, c.f); !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], b) {
				t.Fatalf("appendFrame(%q, %+v) = %x", prefix, c.f, got)
			}
		}
	}
}

// TestHeaderLen checks headerLen for every byte value.
func TestHeaderLen(t *testing.T) {
	want := map[byte]int{
		100: 13, // OPEN
		101: 17, // OPEN_CONFIRMATION
		102: 5,  // OPEN_FAILURE
		103: 9,  // WINDOW_ADJUST
		104: 9,  // DATA, without the payload
		105: 5,  // EOF
		106: 5,  // CLOSE
	}
	for i := range 256 {
		typ := byte(i)
		if got := headerLen(typ); got != want[typ] {
			t.Errorf("headerLen(%d) = %d, want %d", typ, got, want[typ])
		}
		if headerLen(typ) > maxHeaderLen {
			t.Errorf("headerLen(%d) = %d exceeds maxHeaderLen %d", typ, headerLen(typ), maxHeaderLen)
		}
	}
}
