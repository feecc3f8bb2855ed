package main_test

import (
	"testing"
)

// qtalk call --codec sends ARGS in the codec named and prints what comes
// back as JSON, maps that CBOR and msgpack decode included.
func TestCallCodecs(t *testing.T) {
	t.Parallel()
	s := serve(t)
	for _, tc := range []struct {
		codec, label, args, want string
	}{
		{"json", "check:echo", `{"a":[1,"x"],"b":{"c":true}}`, `{"a":[1,"x"],"b":{"c":true}}`},
		{"cbor", "check:echo", `{"a":[1,"x"]}`, `{"a":[1,"x"]}`},
		{"msgpack", "check:echo", `{"a":[1,"x"]}`, `{"a":[1,"x"]}`},
		{"msgpack", "check:echo", `{"n":-3,"f":1.5,"big":18446744073709551615}`, `{"big":18446744073709551615,"f":1.5,"n":-3}`},
		{"msgpack", "kv:set", `["k", {"n": 1}]`, `null`},
		{"cbor", "kv:get", `["k"]`, `{"n":1}`},
	} {
		r := qtalk(t, "", "call", "--codec", tc.codec, s.tcp, tc.label, tc.args)
		r.want(t, 0, tc.codec+" "+tc.label)
		if r.stdout != tc.want+"\n" {
			t.Errorf("--codec %s %s %s printed %q, want %q", tc.codec, tc.label, tc.args, r.stdout, tc.want)
		}
	}
	qtalk(t, "", "call", "--codec", "protobuf", s.tcp, "check:echo", "1").want(t, 2, "--codec protobuf")
	qtalk(t, "", "call", "--codec", "nope", s.tcp, "check:echo", "1").want(t, 2, "--codec nope")
}
