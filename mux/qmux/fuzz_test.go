package qmux

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// replayConn is a connection whose peer sends a fixed byte string and then
// ends the stream. Writes are discarded and Close does nothing.
type replayConn struct{ r *bytes.Reader }

func (c replayConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c replayConn) Write(p []byte) (int, error) { return len(p), nil }
func (c replayConn) Close() error                { return nil }

// fuzzConfig is small, so that the fuzzer reaches the limits with short
// inputs.
var fuzzConfig = Config{WindowSize: 4096, MaxPacketSize: 1024, AcceptBacklog: 2, MaxChannels: 4, MaxControlBacklog: 1024}

// decode runs a session whose peer sends input and returns why it ended.
func decode(t testing.TB, input []byte) error {
	s := newSession(t, replayConn{bytes.NewReader(input)}, &fuzzConfig)
	err := waitEnd(t, s)
	if n := s.numChannels(); n > fuzzConfig.MaxChannels {
		t.Fatalf("numChannels() = %d exceeds MaxChannels %d", n, fuzzConfig.MaxChannels)
	}
	return err
}

// seedStreams returns valid and malformed peer streams: one valid stream
// per message type, each building on channels that exist at that point.
func seedStreams() map[string][]byte {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	fr := func(f frame) []byte { return appendFrame(nil, f) }
	data := func(recipient uint32, payload string) []byte {
		return append(fr(frame{typ: msgChannelData, recipient: recipient, length: uint32(len(payload))}), payload...)
	}
	// The peer opens its channel 7, which the session numbers 0.
	open := fr(frame{typ: msgChannelOpen, sender: 7, window: 4096, maxPacket: 1024})
	// A confirmation the session did not ask for: valid framing, bad state.
	confirm := fr(frame{typ: msgChannelOpenConfirm, recipient: 0, sender: 9, window: 4096, maxPacket: 1024})
	return map[string][]byte{
		"empty":          {},
		"open":           open,
		"open-refused":   fr(frame{typ: msgChannelOpen, sender: 7, window: 4096, maxPacket: 0}),
		"open-flood":     bytes.Repeat(open, 8),
		"confirm":        cat(open, confirm),
		"failure":        cat(open, fr(frame{typ: msgChannelOpenFailure, recipient: 0})),
		"adjust":         cat(open, fr(frame{typ: msgChannelWindowAdjust, recipient: 0, window: 1000})),
		"data":           cat(open, data(0, "hello"), data(0, "")),
		"eof":            cat(open, data(0, "hello"), fr(frame{typ: msgChannelEOF, recipient: 0})),
		"close":          cat(open, fr(frame{typ: msgChannelClose, recipient: 0})),
		"reopen":         cat(open, fr(frame{typ: msgChannelClose, recipient: 0}), open),
		"data-huge":      cat(open, fr(frame{typ: msgChannelData, recipient: 0, length: 0xFFFFFFF0})),
		"data-window":    cat(open, data(0, string(make([]byte, 1024))), data(0, string(make([]byte, 1024))), data(0, string(make([]byte, 1024))), data(0, string(make([]byte, 1024))), data(0, "x")),
		"data-unknown":   data(3, "x"),
		"data-after-eof": cat(open, fr(frame{typ: msgChannelEOF, recipient: 0}), data(0, "x")),
		"adjust-wrap":    cat(open, fr(frame{typ: msgChannelWindowAdjust, recipient: 0, window: 0xFFFFFFFF})),
		"unknown-type":   {107, 0, 0, 0, 0},
		"truncated":      open[:7],
		"truncated-data": cat(open, data(0, "hello")[:11]),
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range seedStreams() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		err := decode(t, input)
		switch {
		case err == nil:
			t.Fatal("Wait() = nil: the session ended without a cause")
		case errors.Is(err, mux.ErrProtocol), errors.Is(err, io.EOF):
		case errors.Is(err, ErrPeerNotReading):
			// Writes never block, but a burst of replies may still
			// outpace the writer goroutine.
		default:
			t.Fatalf("Wait() = %v, want a protocol error or the end of the stream", err)
		}
	})
}

var updateCorpus = flag.Bool("qmux.update-corpus", false, "rewrite testdata/fuzz/FuzzDecode/seed-* from seedStreams")

// TestDecodeSeedCorpus checks that testdata/fuzz/FuzzDecode holds the seed
// streams, so that plain "go test" runs them as FuzzDecode inputs too. With
// -qmux.update-corpus it writes them.
func TestDecodeSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, input := range seedStreams() {
		path := filepath.Join(dir, "seed-"+name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", input)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is out of date (%v): run go test -run TestDecodeSeedCorpus -qmux.update-corpus", path, err)
		}
	}
}

// TestDecodeSeeds checks how each seed stream ends.
func TestDecodeSeeds(t *testing.T) {
	ok := map[string]bool{"empty": true, "open": true, "open-refused": true, "open-flood": true, "adjust": true, "data": true, "eof": true, "close": true, "reopen": true}
	for name, input := range seedStreams() {
		err := decode(t, input)
		if ok[name] {
			if errors.Is(err, mux.ErrProtocol) || !errors.Is(err, io.EOF) {
				t.Errorf("%s: Wait() = %v, want the end of the stream", name, err)
			}
		} else if !errors.Is(err, mux.ErrProtocol) {
			t.Errorf("%s: Wait() = %v, want a protocol error", name, err)
		}
	}
}

// TestDecodeHugeDataLength checks that a DATA header declaring a huge
// payload ends the session without the payload being allocated.
func TestDecodeHugeDataLength(t *testing.T) {
	open := appendFrame(nil, frame{typ: msgChannelOpen, sender: 7, window: 4096, maxPacket: 1024})
	for _, tc := range []struct {
		name   string
		prefix []byte
	}{
		{"open channel", open},
		{"unknown channel", nil},
		{"closed channel", append(append([]byte(nil), open...), appendFrame(nil, frame{typ: msgChannelClose, recipient: 0})...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := appendFrame(tc.prefix, frame{typ: msgChannelData, recipient: 0, length: 0xFFFFFFF0})
			// Half the declared payload follows, so that a session
			// that did read it would find the stream cut short.
			input = append(input, make([]byte, 1<<20)...)
			var err error
			n := allocated(func() { err = decode(t, input) })
			if !errors.Is(err, mux.ErrProtocol) || errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("Wait() = %v, want a protocol error about the length", err)
			}
			if n > 64<<10 {
				t.Fatalf("%d bytes allocated for a session refusing DATA of %d bytes", n, uint32(0xFFFFFFF0))
			}
			t.Logf("%v; %d bytes allocated", err, n)
		})
	}
}

// FuzzFrame checks that any header of a known type survives parseFrame and
// appendFrame unchanged, and that parseFrame sets only the fields of its
// type.
func FuzzFrame(f *testing.F) {
	for typ := byte(msgChannelOpen); typ <= msgChannelClose; typ++ {
		f.Add(append([]byte{typ}, bytes.Repeat([]byte{0xA5}, maxHeaderLen)...))
		f.Add([]byte{typ})
	}
	f.Add([]byte{msgChannelOpenConfirm, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0, 0, 0, 0, 0, 0x80, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		hdr := make([]byte, maxHeaderLen)
		copy(hdr, b)
		hdr[0] = msgChannelOpen + hdr[0]%7 // a known type
		hdr = hdr[:headerLen(hdr[0])]

		fr := parseFrame(hdr)
		if fr.typ != hdr[0] {
			t.Fatalf("parseFrame(%x).typ = %d", hdr, fr.typ)
		}
		if got := appendFrame(nil, fr); !bytes.Equal(got, hdr) {
			t.Fatalf("appendFrame(parseFrame(%x)) = %x", hdr, got)
		}
		if again := parseFrame(appendFrame(nil, fr)); again != fr {
			t.Fatalf("parseFrame(appendFrame(%+v)) = %+v", fr, again)
		}
		// Fields the type lacks stay zero.
		z := fr
		switch fr.typ {
		case msgChannelOpen:
			z.sender, z.window, z.maxPacket = 0, 0, 0
		case msgChannelOpenConfirm:
			z.recipient, z.sender, z.window, z.maxPacket = 0, 0, 0, 0
		case msgChannelWindowAdjust:
			z.recipient, z.window = 0, 0
		case msgChannelData:
			z.recipient, z.length = 0, 0
		default:
			z.recipient = 0
		}
		if z != (frame{typ: fr.typ}) {
			t.Fatalf("parseFrame(%x) = %+v sets fields type %d lacks", hdr, fr, fr.typ)
		}
	})
}
