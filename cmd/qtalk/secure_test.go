package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/internal/testcert"
)

// secureListened matches the log line of a wss or quic listener: the
// address it got.
var secureListened = regexp.MustCompile(`listening addr=((wss|quic)://\S+) fingerprint=sha256:`)

// TestServeSecuredGateway runs the gateway of an operator from a config
// file alone: a wss listener that requires client certificates and a
// quic listener, both with the operator's certificate, bearer tokens
// from a file, and a service whose allow rules let one certificate
// identity and one token through. A client reaches it with the command
// line alone.
func TestServeSecuredGateway(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	pki := writePKI(t, dir, ca) // the client certificate is spiffe://example.org/app
	intruderCert, intruderKey := filepath.Join(dir, "intruder.pem"), filepath.Join(dir, "intruder-key.pem")
	testcert.WriteFiles(t, ca.Client(t, "intruder", "spiffe://example.org/intruder"), intruderCert, intruderKey)
	if err := os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte("ci s3cret-ci\nother s3cret-other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := serve(t)
	config := filepath.Join(dir, "gateway.toml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
tokens = "tokens.txt"
listen = [
  "tcp://127.0.0.1:0",
  "ws://127.0.0.1:0/qtalk",
  { addr = "wss://127.0.0.1:0/qtalk", cert = "cert.pem", key = "key.pem", ca = "ca.pem" },
  { addr = "quic://127.0.0.1:0", cert = "cert.pem", key = "key.pem" },
]

[services]
kv = { provider = %q, allow = ["spiffe://example.org/app", "token:ci"] }
`, up.tcp)), 0o644); err != nil {
		t.Fatal(err)
	}
	gw := serveArgs(t, "serve", "--config", config)
	addrs := map[string]string{}
	for _, l := range gw.waitLines(t, 2, secureListened.MatchString) {
		m := secureListened.FindStringSubmatch(l)
		addrs[m[2]] = m[1]
	}
	wss, quic := addrs["wss"], addrs["quic"]
	if wss == "" || quic == "" {
		t.Fatalf("no wss and quic listeners logged: %v\n%s", addrs, gw.log())
	}

	trust := []string{"--ca", pki.ca}
	app := append(trust, "--client-cert", pki.clientCert, "--client-key", pki.clientKey)
	intruder := append(trust, "--client-cert", intruderCert, "--client-key", intruderKey)
	for _, tc := range []struct {
		what   string
		args   []string
		code   int
		stderr string // a regexp of the one line of stderr, if any
	}{
		{"an allowed certificate over wss", append(app, wss), 0, ""},
		{"a certificate the rules do not name", append(intruder, wss), 17,
			`^qtalk: call kv:set: permission_denied: spiffe://example\.org/intruder may not call service kv$`},
		{"no client certificate over wss", append(trust, wss), 1, `^qtalk: cannot connect to wss://`},
		{"an allowed token over quic", append(trust, "--meta", "authorization=Bearer s3cret-ci", quic), 0, ""},
		{"a token the rules do not name", append(trust, "--meta", "authorization=Bearer s3cret-other", quic), 17,
			`^qtalk: call kv:set: permission_denied: token:other may not call service kv$`},
		{"a token not in the file", append(trust, "--meta", "authorization=Bearer nope", quic), 26, `^qtalk: call kv:set: unauthenticated: `},
		{"no token over quic", append(trust, quic), 17, `^qtalk: call kv:set: permission_denied: an anonymous caller may not call service kv$`},
	} {
		r := qtalk(t, "", append(append([]string{"call"}, tc.args...), "kv:set", `["k", 1]`)...)
		r.want(t, tc.code, tc.what)
		if tc.stderr != "" && (!regexp.MustCompile(tc.stderr).MatchString(strings.TrimSuffix(r.stderr, "\n")) || strings.Count(r.stderr, "\n") != 1) {
			t.Errorf("%s: stderr %q, want one line matching %q", tc.what, r.stderr, tc.stderr)
		}
	}
}
