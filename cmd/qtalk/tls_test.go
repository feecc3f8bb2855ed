package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"

	"github.com/qtalkkit/qtalk/internal/testcert"
)

// tlsListened matches the log line of a TLS listener: its address and
// fingerprint.
var tlsListened = regexp.MustCompile(`listening addr=((?:tls|wss)://\S+) fingerprint=(sha256:[0-9a-f]{64})$`)

// tlsListeners waits for the log lines of the server's tls and wss
// listeners and returns their addresses and fingerprints, tls first.
func tlsListeners(t *testing.T, s *server) (addrs, fingerprints [2]string) {
	t.Helper()
	for _, l := range s.waitLines(t, 2, tlsListened.MatchString) {
		m := tlsListened.FindStringSubmatch(l)
		i := 0
		if m[1][:3] == "wss" {
			i = 1
		}
		addrs[i], fingerprints[i] = m[1], m[2]
	}
	if addrs[0] == "" || addrs[1] == "" {
		t.Fatalf("no tls and wss listeners logged\n%s", s.log())
	}
	return addrs, fingerprints
}

// serveTLS starts qtalk serve on tcp, ws, tls and wss addresses with the
// extra flags.
func serveTLS(t *testing.T, extra ...string) *server {
	t.Helper()
	return serve(t, append([]string{"--listen", "tls://127.0.0.1:0", "--listen", "wss://127.0.0.1:0/qtalk"}, extra...)...)
}

func TestServeTLSSelfSigned(t *testing.T) {
	t.Parallel()
	s := serveTLS(t)
	addrs, fps := tlsListeners(t, s)
	if fps[0] == fps[1] {
		t.Errorf("the tls and wss listeners have the same certificate")
	}
	for i, addr := range addrs {
		r := qtalk(t, "", "call", addr+"?pin="+fps[i], "echo:echo", `"pinned"`)
		r.want(t, 0, "call pinned to the logged fingerprint")
		if r.stdout != `"pinned"`+"\n" {
			t.Errorf("stdout %q", r.stdout)
		}
		r = qtalk(t, "", "call", addr+"?insecure=1", "echo:echo", `"any"`)
		r.want(t, 0, "call with ?insecure=1")
		r = qtalk(t, "", "call", addr, "echo:echo", `"unverified"`)
		r.want(t, 1, "call of a self-signed server without a pin")
		if !regexp.MustCompile(`^qtalk: cannot connect to \S+: .*certificate.*\n$`).MatchString(r.stderr) {
			t.Errorf("stderr %q, want one line about the certificate", r.stderr)
		}
		r = qtalk(t, "", "call", addr+"?pin="+fps[1-i], "echo:echo", `"other pin"`)
		r.want(t, 1, "call pinned to another fingerprint")
	}
}

// pkiFiles writes a CA, a server certificate for 127.0.0.1 and a client
// certificate with a SPIFFE URI in dir, and returns their file names.
type pkiFiles struct {
	ca, cert, key, clientCert, clientKey string
}

func writePKI(t *testing.T, dir string, ca *testcert.CA) pkiFiles {
	t.Helper()
	f := pkiFiles{
		ca:   filepath.Join(dir, "ca.pem"),
		cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem"),
		clientCert: filepath.Join(dir, "client.pem"), clientKey: filepath.Join(dir, "client-key.pem"),
	}
	ca.WriteCA(t, f.ca)
	testcert.WriteFiles(t, ca.Valid(t), f.cert, f.key)
	testcert.WriteFiles(t, ca.Client(t, "app", "spiffe://example.org/app"), f.clientCert, f.clientKey)
	return f
}

func TestServeMutualTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t)
	pki := writePKI(t, t.TempDir(), ca)
	s := serveTLS(t, "--cert", pki.cert, "--key", pki.key, "--ca", pki.ca)
	addrs, fps := tlsListeners(t, s)
	if fps[0] != fps[1] {
		t.Errorf("the tls and wss listeners log different fingerprints for --cert: %s and %s", fps[0], fps[1])
	}
	for _, addr := range addrs {
		r := qtalk(t, "", "call", "--ca", pki.ca, "--client-cert", pki.clientCert, "--client-key", pki.clientKey, addr, "echo:echo", `"mutual"`)
		r.want(t, 0, "call with a client certificate")
		if r.stdout != `"mutual"`+"\n" {
			t.Errorf("stdout %q", r.stdout)
		}
		r = qtalk(t, "", "ls", "--ca", pki.ca, "--client-cert", pki.clientCert, "--client-key", pki.clientKey, addr)
		r.want(t, 0, "ls with a client certificate")
		r = qtalk(t, "", "call", "--ca", pki.ca, addr, "echo:echo", `"no client certificate"`)
		if r.code == 0 {
			t.Errorf("a call without a client certificate succeeded\n%s", r)
		}
	}

	// SIGHUP reloads the files: a certificate of another CA, which only
	// clients that trust that CA accept.
	other := testcert.NewCA(t)
	otherCA := filepath.Join(t.TempDir(), "other-ca.pem")
	other.WriteCA(t, otherCA)
	r := qtalk(t, "", "call", "--ca", otherCA, "--client-cert", pki.clientCert, "--client-key", pki.clientKey, addrs[0], "echo:echo", "1")
	r.want(t, 1, "call trusting another CA")
	testcert.WriteFiles(t, other.Valid(t), pki.cert, pki.key)
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitLog(t, `certificate reloaded .*fingerprint=sha256:`)
	r = qtalk(t, "", "call", "--ca", otherCA, "--client-cert", pki.clientCert, "--client-key", pki.clientKey, addrs[0], "echo:echo", "2")
	r.want(t, 0, "call trusting the new certificate's CA after SIGHUP")
}

func TestServeTLSBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	pki := writePKI(t, dir, ca)
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--cert", pki.cert}, `qtalk: serve: transport: bad TLS files: certificate \S+ without its key`},
		{[]string{"serve", "--cert", pki.cert, "--key", pki.ca}, `qtalk: serve: transport: bad TLS files: certificate \S+ and key \S+: .*`},
		{[]string{"serve", "--ca", filepath.Join(dir, "empty.pem")}, `qtalk: serve: transport: bad TLS files: CA bundle \S+ holds no PEM certificate`},
		{[]string{"serve", "--config", "qtalk.toml", "--cert", pki.cert}, `qtalk: serve: --cert, --key and --ca do not mix with --config: .*`},
		{[]string{"call", "--client-key", pki.key, "tls://127.0.0.1:1", "echo:echo"}, `qtalk: call: transport: bad TLS files: key \S+ without its certificate`},
		{[]string{"check", "--ca", filepath.Join(dir, "none.pem"), "tls://127.0.0.1:1"}, `qtalk: check: transport: bad TLS files: CA bundle: .*`},
	} {
		r := qtalk(t, "", tc.args...)
		r.want(t, 2, "bad TLS files")
		if !regexp.MustCompile("^" + tc.want + "\n$").MatchString(r.stderr) {
			t.Errorf("qtalk %q: stderr %q, want %s", tc.args, r.stderr, tc.want)
		}
	}
}

func TestServeQUICTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t)
	pki := writePKI(t, t.TempDir(), ca)
	s := serve(t, "--listen", "quic://127.0.0.1:0", "--cert", pki.cert, "--key", pki.key, "--ca", pki.ca)
	m := quicListened.FindStringSubmatch(s.waitLog(t, quicListened.String()))
	addr := m[1]
	r := qtalk(t, "", "call", "--ca", pki.ca, "--client-cert", pki.clientCert, "--client-key", pki.clientKey, addr, "echo:echo", `"over quic"`)
	r.want(t, 0, "call over quic with a client certificate")
	if r.stdout != `"over quic"`+"\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	r = qtalk(t, "", "call", addr+"?pin="+m[2], "echo:echo", `"no client certificate"`)
	if r.code == 0 {
		t.Errorf("a call over quic without a client certificate succeeded\n%s", r)
	}
}
