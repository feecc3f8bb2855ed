package main_test

import (
	"regexp"
	"testing"
)

// quicListened matches the log line of a quic listener: its address and
// fingerprint.
var quicListened = regexp.MustCompile(`listening addr=(quic://\S+) fingerprint=(sha256:[0-9a-f]{64})$`)

// The binary listens and dials on quic://: a call and a stream over QUIC
// to qtalk serve, pinned to the certificate it logged.
func TestServeQUIC(t *testing.T) {
	t.Parallel()
	s := serve(t, "--listen", "quic://127.0.0.1:0")
	m := quicListened.FindStringSubmatch(s.waitLines(t, 1, quicListened.MatchString)[0])
	addr := m[1] + "?pin=" + m[2]
	r := qtalk(t, "", "call", addr, "echo:echo", `"over quic"`)
	r.want(t, 0, "call over quic")
	if r.stdout != `"over quic"`+"\n" {
		t.Errorf("stdout %q, want the echo", r.stdout)
	}
	r = qtalk(t, "", "ls", addr)
	r.want(t, 0, "ls over quic")
	if !regexp.MustCompile(`(?m)^echo\b`).MatchString(r.stdout) {
		t.Errorf("ls over quic does not list echo:\n%s", r.stdout)
	}
}
