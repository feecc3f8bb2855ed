package transport_test

import (
	"testing"

	"github.com/qtalkkit/qtalk/transport"
)

// FuzzParseAddress checks that ParseAddress does not panic and that every
// address it accepts survives a round trip through String.
func FuzzParseAddress(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, s := range []string{
		"", "tcp/", "tcp/$4:x", "ws://h:1/a!b/c", "ws://h:1/a!b?q!x", "unix:///a!",
		"exec:'", "exec:a!b!c", "memtest://x:1/y?z", "memtest:opaque", "memtest://",
		"tcp/[fe80::1%25x]:1", "ws/[::]:1/%zz", "stdio:!a!b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := transport.ParseAddress(s)
		if err != nil {
			return
		}
		str := a.String()
		b, err := transport.ParseAddress(str)
		if err != nil {
			t.Fatalf("ParseAddress(%q) = %#v, but its String %q does not parse: %v", s, a, str, err)
		}
		if b != a {
			t.Fatalf("round trip of %q through %q: got %#v, want %#v", s, str, b, a)
		}
		if b.String() != str {
			t.Fatalf("String not stable: %q then %q", str, b.String())
		}
	})
}
