package label_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/label"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want label.Label
		str  string // canonical form, if not in
	}{
		{in: "chat:send", want: label.Label{Module: "chat", Name: "send"}},
		{in: "guild:write?id=7", want: label.Label{Module: "guild", Name: "write", Params: label.Params{{"id", "7"}}}},
		{in: "example.net/guild-service:write", want: label.Label{Host: "example.net", Module: "guild-service", Name: "write"}},
		{in: "Example.NET:4242/g:w", want: label.Label{Host: "example.net:4242", Module: "g", Name: "w"}, str: "example.net:4242/g:w"},
		{in: "[::1]:80/g:w", want: label.Label{Host: "[::1]:80", Module: "g", Name: "w"}},
		{in: "[FE80::1]/g:w", want: label.Label{Host: "[fe80::1]", Module: "g", Name: "w"}, str: "[fe80::1]/g:w"},
		{in: "a.b_c-d:_x.y-z", want: label.Label{Module: "a.b_c-d", Name: "_x.y-z"}},
		{in: "m:n?a=1&b=2&a=3", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"a", "1"}, {"b", "2"}, {"a", "3"}}}},
		{in: "m:n?flag", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"flag", ""}}}},
		{in: "m:n?flag=", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"flag", ""}}}, str: "m:n?flag"},
		{in: "m:n?p=a%20b%26c%3Dd%25", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"p", "a b&c=d%"}}}},
		{in: "m:n?p=%c3%a9", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"p", "é"}}}, str: "m:n?p=%C3%A9"},
		{in: "m:n?path=/a/b?c:d@e", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"path", "/a/b?c:d@e"}}}},
		{in: "m:n?e=a=b", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"e", "a=b"}}}, str: "m:n?e=a%3Db"},
		{in: "m:n?k%3D=v", want: label.Label{Module: "m", Name: "n", Params: label.Params{{"k=", "v"}}}},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := label.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("Parse = %#v, want %#v", got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if s := got.String(); s != str {
				t.Errorf("String = %q, want %q", s, str)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		in     string
		part   string
		offset int
	}{
		{"", label.PartLabel, 0},
		{"chat", label.PartLabel, 4},
		{"chat.send", label.PartLabel, 9},
		{":send", label.PartModule, 0},
		{"chat:", label.PartName, 5},
		{"-chat:send", label.PartModule, 0},
		{"ch at:send", label.PartModule, 2},
		{"chat:se nd", label.PartName, 7},
		{"chat:a:b", label.PartName, 6},
		{"chat:a/b", label.PartName, 6},
		{"/chat:send", label.PartHost, 0},
		{"h/x/chat:send", label.PartModule, 3},
		{"-h/chat:send", label.PartHost, 0},
		{"h!/chat:send", label.PartHost, 1},
		{"h:/chat:send", label.PartHost, 2},
		{"h:123456/chat:send", label.PartHost, 2},
		{"h:70000/chat:send", label.PartHost, 2},
		{"[::1/chat:send", label.PartHost, 0},
		{"[]/chat:send", label.PartHost, 1},
		{"[::g]/chat:send", label.PartHost, 3},
		{"chat:send?", label.PartParams, 10},
		{"chat:send?a&", label.PartParams, 12},
		{"chat:send?a&&b", label.PartParams, 12},
		{"chat:send?=v", label.PartParams, 10},
		{"chat:send?a=%2", label.PartParams, 12},
		{"chat:send?a=%zz", label.PartParams, 12},
		{"chat:send?a=b c", label.PartParams, 13},
		{"chat:send?a=é", label.PartParams, 12},
		{"chat:send?a#b", label.PartParams, 11},
		{"chat:send" + "?p=" + strings.Repeat("x", label.MaxLength), label.PartLabel, label.MaxLength},
	} {
		t.Run(tt.in, func(t *testing.T) {
			_, err := label.Parse(tt.in)
			var se *label.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError", tt.in, err)
			}
			if !errors.Is(err, label.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if se.Part != tt.part || se.Offset != tt.offset {
				t.Errorf("Parse(%q): part %s at %d (%v), want %s at %d", tt.in, se.Part, se.Offset, err, tt.part, tt.offset)
			}
			if se.Label != tt.in || !strings.Contains(err.Error(), se.Part) {
				t.Errorf("error %q should name the label and the part", err)
			}
		})
	}
}

func TestParams(t *testing.T) {
	l := label.MustParse("m:n?a=1&b=2&a=3")
	if v, ok := l.Params.Get("a"); !ok || v != "1" {
		t.Errorf("Get(a) = %q, %v", v, ok)
	}
	if _, ok := l.Params.Get("c"); ok {
		t.Error("Get(c) found a value")
	}
	if vs := l.Params.Values("a"); len(vs) != 2 || vs[0] != "1" || vs[1] != "3" {
		t.Errorf("Values(a) = %q", vs)
	}
	if got := l.Route(); got != "m:n" {
		t.Errorf("Route = %q", got)
	}
	up := label.MustParse("example.net/guild:write?id=7").WithModule("guild-service")
	if got := up.String(); got != "guild-service:write?id=7" {
		t.Errorf("WithModule = %q", got)
	}
}

func TestMatchers(t *testing.T) {
	l := label.MustParse("files:docs.readme?v=2")
	for _, tt := range []struct {
		name string
		m    label.Matcher
		want bool
	}{
		{"exact", label.Exact("docs.readme"), true},
		{"exact other", label.Exact("docs"), false},
		{"prefix", label.Prefix("docs."), true},
		{"prefix empty", label.Prefix(""), true},
		{"prefix other", label.Prefix("img."), false},
		{"func on params", label.MatchFunc(func(l label.Label) bool { v, _ := l.Params.Get("v"); return v == "2" }), true},
	} {
		if got := tt.m.Match(l); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid label did not panic")
		}
	}()
	label.MustParse("nope")
}

// FuzzParse checks that whatever parses prints in a form that parses
// back to the same label, and that printing is canonical.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"chat:send", "guild:write?id=7", "example.net/guild-service:write",
		"[::1]:80/g:w", "m:n?a=1&b&a=%20%3D", "m:n?p=/x?y:z", "H:1/m:n", "m:n?a=b=c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := label.Parse(s)
		if err != nil {
			var se *label.SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			return
		}
		str := l.String()
		l2, err := label.Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, whose String %q does not parse: %v", s, l, str, err)
		}
		if !l2.Equal(l) {
			t.Fatalf("Parse(%q) = %#v, String %q parses to %#v", s, l, str, l2)
		}
		if str2 := l2.String(); str2 != str {
			t.Fatalf("String is not canonical: %q then %q", str, str2)
		}
	})
}
