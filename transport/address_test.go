package transport_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/transport"
)

type A = transport.Address

var parseTests = []struct {
	in   string
	want A
	str  string // canonical form; "" if in is canonical
}{
	// URL form.
	{"tcp://127.0.0.1:4000", A{Scheme: "tcp", Host: "127.0.0.1:4000"}, ""},
	{"tcp://[::1]:4000", A{Scheme: "tcp", Host: "[::1]:4000"}, ""},
	{"tcp://[fe80::1%eth0]:4000", A{Scheme: "tcp", Host: "[fe80::1%eth0]:4000"}, ""},
	{"tcp://example.com:80", A{Scheme: "tcp", Host: "example.com:80"}, ""},
	{"tcp://:0", A{Scheme: "tcp", Host: ":0"}, ""},
	{"TCP://h:04000", A{Scheme: "tcp", Host: "h:4000"}, "tcp://h:4000"},
	{"unix:///run/q.sock", A{Scheme: "unix", Path: "/run/q.sock"}, ""},
	{"unix:/run/q.sock", A{Scheme: "unix", Path: "/run/q.sock"}, "unix:///run/q.sock"},
	{"unix:q.sock", A{Scheme: "unix", Path: "q.sock"}, ""},
	{"unix:./a b/q.sock", A{Scheme: "unix", Path: "./a b/q.sock"}, ""},
	{"ws://host:8080/path", A{Scheme: "ws", Host: "host:8080", Path: "/path"}, ""},
	{"ws://host/path?a=1&b=%20", A{Scheme: "ws", Host: "host", Path: "/path", RawQuery: "a=1&b=%20"}, ""},
	{"ws://host:80", A{Scheme: "ws", Host: "host:80"}, ""},
	{"ws://host/a%21b", A{Scheme: "ws", Host: "host", Path: "/a%21b"}, ""},
	{"websocket://host:1/p", A{Scheme: "ws", Host: "host:1", Path: "/p"}, "ws://host:1/p"},
	{"wss://host:443/p", A{Scheme: "wss", Host: "host:443", Path: "/p"}, ""},
	{"stdio:", A{Scheme: "stdio"}, ""},
	{"exec:cmd", A{Scheme: "exec", Opaque: "cmd"}, ""},
	{"exec:cmd -x 'a b' \"c'd\"", A{Scheme: "exec", Opaque: "cmd -x 'a b' \"c'd\""}, ""},
	{"exec:sh -c 'echo hi!'", A{Scheme: "exec", Opaque: "sh -c 'echo hi!'"}, ""},

	// Compact form and every shorthand.
	{"tcp/127.0.0.1:4000", A{Scheme: "tcp", Host: "127.0.0.1:4000"}, "tcp://127.0.0.1:4000"},
	{"tcp/$4:4000", A{Scheme: "tcp", Host: "127.0.0.1:4000"}, "tcp://127.0.0.1:4000"},
	{"tcp/$6:4000", A{Scheme: "tcp", Host: "[::1]:4000"}, "tcp://[::1]:4000"},
	{"tcp/$n:4000", A{Scheme: "tcp", Host: "localhost:4000"}, "tcp://localhost:4000"},
	{"tcp/*4:4000", A{Scheme: "tcp", Host: "0.0.0.0:4000"}, "tcp://0.0.0.0:4000"},
	{"tcp/*6:4000", A{Scheme: "tcp", Host: "[::]:4000"}, "tcp://[::]:4000"},
	{"tcp://$4:4000", A{Scheme: "tcp", Host: "127.0.0.1:4000"}, "tcp://127.0.0.1:4000"},
	{"ws/$4:8080/q?x", A{Scheme: "ws", Host: "127.0.0.1:8080", Path: "/q", RawQuery: "x"}, "ws://127.0.0.1:8080/q?x"},
	{"ws/$n", A{Scheme: "ws", Host: "localhost"}, "ws://localhost"},
	{"unix//run/q.sock", A{Scheme: "unix", Path: "/run/q.sock"}, "unix:///run/q.sock"},
	{"unix/q.sock", A{Scheme: "unix", Path: "q.sock"}, "unix:q.sock"},

	// Subports.
	{"tcp/$4:4000!chat", A{Scheme: "tcp", Host: "127.0.0.1:4000", Subport: "chat"}, "tcp://127.0.0.1:4000!chat"},
	{"tcp://127.0.0.1:4000!chat", A{Scheme: "tcp", Host: "127.0.0.1:4000", Subport: "chat"}, ""},
	{"ws://h:1/p?q=1!a.b_c-d", A{Scheme: "ws", Host: "h:1", Path: "/p", RawQuery: "q=1", Subport: "a.b_c-d"}, ""},
	{"ws://h:1/p!", A{Scheme: "ws", Host: "h:1", Path: "/p!"}, ""},
	{"tcp/$4:4000!files:upload", A{Scheme: "tcp", Host: "127.0.0.1:4000", Subport: "files:upload"}, "tcp://127.0.0.1:4000!files:upload"},
	{"unix:///s.sock!svc", A{Scheme: "unix", Path: "/s.sock", Subport: "svc"}, ""},
	{"stdio:!chat", A{Scheme: "stdio", Subport: "chat"}, ""},
	{"exec:cmd arg!chat", A{Scheme: "exec", Opaque: "cmd arg", Subport: "chat"}, ""},
}

func TestParseAddress(t *testing.T) {
	for _, tt := range parseTests {
		got, err := transport.ParseAddress(tt.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAddress(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		str := tt.str
		if str == "" {
			str = tt.in
		}
		if got.String() != str {
			t.Errorf("ParseAddress(%q).String() = %q, want %q", tt.in, got.String(), str)
		}
		again, err := transport.ParseAddress(got.String())
		if err != nil || again != got {
			t.Errorf("round trip of %q: %#v, %v", tt.in, again, err)
		}
	}
}

func TestParseAddressErrors(t *testing.T) {
	for _, tt := range []struct{ in, reason string }{
		{"", "missing scheme"},
		{"127.0.0.1", "missing scheme"},
		{":4000", "bad scheme"},
		{"1tcp://h:1", "bad scheme"},
		{"nope://h:1", `unknown scheme "nope"`},
		{"nope/h:1", `unknown scheme "nope"`},
		{"tcp://127.0.0.1", `missing port in "127.0.0.1"`},
		{"tcp/$4", `missing port in "127.0.0.1"`},
		{"tcp/$4:", "missing port"},
		{"tcp://", "missing host and port"},
		{"tcp://h:http", `bad port "http"`},
		{"tcp://h:65536", `bad port "65536"`},
		{"tcp://h:-1", `bad port "-1"`},
		{"tcp://h:1/x", `unexpected "/x"`},
		{"tcp:h:1", "missing //"},
		{"tcp/::1:4000", "must be in brackets"},
		{"tcp/[::1:4000", "missing ]"},
		{"tcp/[1.2.3.4]:4000", "bad IPv6 host"},
		{"tcp/[::1]x:4000", "bad host"},
		{"tcp/$5:4000", `bad host "$5"`},
		{"tcp/h h:1", "bad host"},
		{"tcp/u@h:1", "user info"},
		{"tcp/h:1!", `bad subport ""`},
		{"tcp/h:1!a b", `bad subport "a b"`},
		{"ws://h:1/p#f", "fragment"},
		{"ws://h:1/a b", "bad path"},
		{"ws://h:1/a%2", "bad path"},
		{"ws://h:1/?a b", "bad query"},
		{"ws://:1/p", "missing host"},
		{"unix://", "empty path"},
		{"unix:", "empty path"},
		{"unix/", "empty path"},
		{"unix://host/x.sock", "unexpected host"},
		{"stdio:x", `unexpected "x"`},
		{"stdio/x", "no compact form"},
		{"stdio:!", `bad subport ""`},
		{"exec:", "empty command"},
		{"exec:  ", "empty command"},
		{"exec:cmd 'a", "unterminated ' quote"},
		{"exec/cmd", "no compact form"},
	} {
		_, err := transport.ParseAddress(tt.in)
		if !errors.Is(err, transport.ErrBadAddress) {
			t.Errorf("ParseAddress(%q): %v, want ErrBadAddress", tt.in, err)
			continue
		}
		var ae *transport.AddressError
		if !errors.As(err, &ae) || ae.Addr != tt.in || !strings.Contains(ae.Reason, tt.reason) {
			t.Errorf("ParseAddress(%q): %v, want reason containing %q", tt.in, err, tt.reason)
		}
	}
	_, err := transport.ParseAddress("nope://h:1")
	if !errors.Is(err, transport.ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v, want ErrUnknownScheme", err)
	}
}

func TestArgs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"exec:cmd", []string{"cmd"}},
		{"exec:  cmd \t a  b ", []string{"cmd", "a", "b"}},
		{`exec:cmd 'a b' "c'd" e"f g"h '' x`, []string{"cmd", "a b", "c'd", "ef gh", "", "x"}},
	} {
		a, err := transport.ParseAddress(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Args()
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("Args of %q = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := (transport.Address{Scheme: "exec"}).Args(); !errors.Is(err, transport.ErrBadAddress) {
		t.Errorf("Args of an empty command: %v", err)
	}
}
