package transport_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/transport"
)

// leafFingerprint returns the fingerprint of cert's leaf.
func leafFingerprint(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return transport.Fingerprint(leaf)
}

// logCapture records what is logged with slog's default logger while it
// is installed.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// captureLog makes slog's default logger write to the returned capture
// until the test ends.
func captureLog(t *testing.T) *logCapture {
	c := new(logCapture)
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(c, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return c
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func TestSelfSignedCertificate(t *testing.T) {
	cert, err := transport.SelfSignedCertificate("example.test", "192.0.2.7", "0.0.0.0", "")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		t.Fatal("no parsed leaf")
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	for _, host := range []string{"example.test", "localhost", "192.0.2.7", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("certificate not valid for %s: %v", host, err)
		}
	}
	if err := leaf.VerifyHostname("0.0.0.0"); err == nil {
		t.Error("certificate valid for the wildcard address")
	}
	if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		t.Errorf("certificate not valid now: %v to %v", leaf.NotBefore, leaf.NotAfter)
	}
	fp := transport.Fingerprint(leaf)
	if !fingerprintRE.MatchString(fp) {
		t.Errorf("Fingerprint = %q, want sha256: and 64 hex digits", fp)
	}
	other, err := transport.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if transport.Fingerprint(other.Leaf) == fp {
		t.Error("two generated certificates have the same fingerprint")
	}
}

func TestClientTLSConfigParams(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		query   string
		opts    []transport.Option
		wantErr []error // nil: no error
		pinned  bool
		skip    bool // InsecureSkipVerify without a pin
	}{
		{query: "", pinned: false},
		{query: "pin=sha256:" + fp, pinned: true},
		{query: "pin=SHA256:" + strings.ToUpper(fp), pinned: true},
		{query: "pin=sha256%3A" + fp, pinned: true},
		{query: "pin=sha256:" + strings.Repeat("ab:", 31) + "ab", pinned: true},
		{opts: []transport.Option{transport.WithPin("sha256:" + fp)}, pinned: true},
		{query: "insecure=1", skip: true},
		{query: "insecure=true", skip: true},
		{query: "insecure=0"},
		{opts: []transport.Option{transport.WithInsecureSkipVerify()}, skip: true},
		{query: "insecure=1&pin=sha256:" + fp, pinned: true},
		{query: "pin=sha1:" + fp, wantErr: []error{transport.ErrBadAddress, transport.ErrBadPin}},
		{query: "pin=sha256:abcd", wantErr: []error{transport.ErrBadAddress, transport.ErrBadPin}},
		{opts: []transport.Option{transport.WithPin("deadbeef")}, wantErr: []error{transport.ErrBadPin}},
		{query: "insecure=yes", wantErr: []error{transport.ErrBadAddress}},
		{query: "pinn=sha256:" + fp, wantErr: []error{transport.ErrBadAddress}},
	} {
		log := captureLog(t)
		a := transport.Address{Scheme: "tls", Host: "127.0.0.1:1", RawQuery: tc.query}
		o := optionsOf(tc.opts...)
		cfg, err := transport.ClientTLSConfig(a, o)
		what := a.String()
		if tc.wantErr != nil {
			for _, target := range tc.wantErr {
				if !errors.Is(err, target) {
					t.Errorf("%s %d options: got %v, want an error matching %v", what, len(tc.opts), err, target)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if cfg.ServerName != "127.0.0.1" {
			t.Errorf("%s: ServerName %q, want 127.0.0.1", what, cfg.ServerName)
		}
		if got := cfg.VerifyConnection != nil; got != tc.pinned {
			t.Errorf("%s: pinned %v, want %v", what, got, tc.pinned)
		}
		if got := cfg.InsecureSkipVerify && !tc.pinned; got != tc.skip {
			t.Errorf("%s: verification skipped %v, want %v", what, got, tc.skip)
		}
		if warned := strings.Contains(log.String(), "level=WARN"); warned != tc.skip {
			t.Errorf("%s: warning logged %v, want %v (log %q)", what, warned, tc.skip, log.String())
		}
	}
}

func TestServerTLSConfig(t *testing.T) {
	a := transport.Address{Scheme: "tls", Host: "127.0.0.1:0"}
	cfg, fp, err := transport.ServerTLSConfig(a, optionsOf())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Certificates) != 1 || !fingerprintRE.MatchString(fp) || fp != leafFingerprint(t, cfg.Certificates[0]) {
		t.Errorf("generated config: %d certificates, fingerprint %q", len(cfg.Certificates), fp)
	}

	ca := testcert.NewCA(t)
	cert := ca.Valid(t)
	mine := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	cfg, fp, err = transport.ServerTLSConfig(a, optionsOf(transport.WithTLSConfig(mine)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg == mine || cfg.MinVersion != tls.VersionTLS13 || fp != leafFingerprint(t, cert) {
		t.Errorf("caller's config: got a clone %v, fingerprint %q, want %q", cfg != mine, fp, leafFingerprint(t, cert))
	}

	// A caller config without a certificate keeps its settings and gets a
	// generated certificate.
	cfg, fp, err = transport.ServerTLSConfig(a, optionsOf(transport.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS13})))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS13 || len(cfg.Certificates) != 1 || fp == "" {
		t.Errorf("config without a certificate: MinVersion %x, %d certificates, fingerprint %q", cfg.MinVersion, len(cfg.Certificates), fp)
	}

	a.RawQuery = "x=1"
	if _, _, err := transport.ServerTLSConfig(a, optionsOf()); !errors.Is(err, transport.ErrBadAddress) {
		t.Errorf("listen address with an unknown parameter: %v, want ErrBadAddress", err)
	}
}

// optionsOf applies opts.
func optionsOf(opts ...transport.Option) *transport.Options {
	o := new(transport.Options)
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// dialErr dials addr with opts, closing the session if that works, and
// returns the error.
func dialErr(addr string, opts ...transport.Option) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := transport.Dial(ctx, addr, opts...)
	if err == nil {
		s.Close()
		s.Wait()
	}
	return err
}
