package relay_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/qtalkkit/qtalk/relay"
	"github.com/qtalkkit/qtalk/transport"
)

func TestRefusalReasonCut(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	err := relay.ReadAnswer(bytes.NewReader(relay.AppendRefusal(nil, long)), "s")
	var re *relay.RefusedError
	if !errors.As(err, &re) || len(re.Reason) > 255 || !utf8.ValidString(re.Reason) || !strings.HasPrefix(long, re.Reason) {
		t.Fatalf("ReadAnswer = %v, want the reason cut to 255 bytes at a rune boundary", err)
	}
}

// FuzzPreamble checks that a preamble that reads returns its subport
// written again byte for byte, and that anything else is ErrBadPreamble,
// never a panic; and the same of answers.
func FuzzPreamble(f *testing.F) {
	for _, s := range []string{"a", "files", "files:upload", strings.Repeat("x", 255)} {
		f.Add(relay.AppendRequest(nil, s))
		f.Add(relay.AppendRefusal(nil, s))
	}
	f.Add([]byte{0})
	f.Add([]byte("qtp\x01\x05a"))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		sub, err := relay.ReadRequest(r)
		if err == nil {
			if !transport.ValidSubport(sub) {
				t.Fatalf("ReadRequest(%q) = %q, not a subport", data, sub)
			}
			if used := len(data) - r.Len(); !bytes.Equal(relay.AppendRequest(nil, sub), data[:used]) {
				t.Fatalf("ReadRequest(%q) = %q, which does not encode back to the %d bytes read", data, sub, used)
			}
		} else if !errors.Is(err, relay.ErrBadPreamble) {
			t.Fatalf("ReadRequest(%q) = %v, want ErrBadPreamble", data, err)
		}
		err = relay.ReadAnswer(bytes.NewReader(data), "s")
		var re *relay.RefusedError
		if errors.As(err, &re) && !utf8.ValidString(re.Reason) {
			t.Fatalf("ReadAnswer(%q): reason %q is not UTF-8", data, re.Reason)
		}
	})
}
