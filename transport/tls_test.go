package transport_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/transport"
)

// fingerprintOf returns the fingerprint ln reports, failing the test if it
// has none.
func fingerprintOf(t *testing.T, ln transport.Listener) string {
	t.Helper()
	f, ok := ln.(transport.Fingerprinter)
	if !ok {
		t.Fatalf("%T is not a Fingerprinter", ln)
	}
	fp := f.Fingerprint()
	if !fingerprintRE.MatchString(fp) {
		t.Fatalf("Fingerprint() = %q", fp)
	}
	return fp
}

func TestTLSPinned(t *testing.T) {
	for _, listen := range []string{"tls/$4:0", "tls://127.0.0.1:0!chat"} {
		t.Run(listen, func(t *testing.T) {
			testEcho(t, listen, func(ln transport.Listener) string {
				return "tls://" + ln.Addr().String() + "?pin=" + fingerprintOf(t, ln)
			})
		})
	}
	// The pin as an option.
	var pin string
	testEcho(t, "tls/$4:0", func(ln transport.Listener) string {
		pin = fingerprintOf(t, ln)
		return "tls://" + ln.Addr().String()
	}, pinFrom(&pin))
}

// pinFrom returns an option that pins the fingerprint *fp holds when the
// option is applied (by Dial, after the listener set it).
func pinFrom(fp *string) transport.Option {
	return func(o *transport.Options) {
		if *fp != "" {
			transport.WithPin(*fp)(o)
		}
	}
}

// tlsServer listens on addr with opts and serves echo sessions until the
// test ends. It returns the listener.
func tlsServer(t *testing.T, addr string, opts ...transport.Option) transport.Listener {
	t.Helper()
	ln, err := transport.Listen(context.Background(), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			s, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			wg.Go(func() { serveEcho(s) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln
}

func TestTLSRefused(t *testing.T) {
	ln := tlsServer(t, "tls/$4:0")
	addr := "tls://" + ln.Addr().String()

	err := dialErr(addr + "?pin=sha256:" + strings.Repeat("00", 32))
	if !errors.Is(err, transport.ErrPinMismatch) {
		t.Errorf("wrong pin: %v, want ErrPinMismatch", err)
	} else if !strings.Contains(err.Error(), fingerprintOf(t, ln)) {
		t.Errorf("wrong pin: %v does not name the server's fingerprint", err)
	}

	// Neither a pin nor a config: the system roots do not know the
	// self-signed certificate.
	var unknown x509.UnknownAuthorityError
	if err := dialErr(addr); !errors.As(err, &unknown) {
		t.Errorf("no pin: %v, want an x509.UnknownAuthorityError", err)
	}
}

func TestTLSInsecure(t *testing.T) {
	ln := tlsServer(t, "tls/$4:0")
	addr := "tls://" + ln.Addr().String()
	for _, tc := range []struct {
		addr string
		opts []transport.Option
	}{
		{addr + "?insecure=1", nil},
		{addr, []transport.Option{transport.WithInsecureSkipVerify()}},
	} {
		log := captureLog(t)
		s, err := transport.Dial(context.Background(), tc.addr, tc.opts...)
		if err != nil {
			t.Fatalf("insecure dial: %v", err)
		}
		checkEcho(t, s)
		s.Close()
		s.Wait()
		if got := log.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "verification disabled") {
			t.Errorf("insecure dial logged %q, want a warning", got)
		}
	}
}

func TestTLSCallerConfig(t *testing.T) {
	ca := testcert.NewCA(t)
	client := &tls.Config{RootCAs: ca.Pool}
	for _, tc := range []struct {
		name   string
		cert   tls.Certificate
		client *tls.Config
		check  func(error) bool // nil: the dial must work
	}{
		{name: "valid", cert: ca.Valid(t), client: client},
		{name: "expired", cert: ca.Expired(t), client: client, check: isExpired},
		{name: "wrong host", cert: ca.WrongHost(t), client: client, check: isWrongHost},
		{name: "untrusted", cert: ca.Valid(t), client: nil, check: isUnknownAuthority},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln := tlsServer(t, "tls/$4:0", transport.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{tc.cert}}))
			if got, want := fingerprintOf(t, ln), leafFingerprint(t, tc.cert); got != want {
				t.Errorf("Fingerprint() = %s, want the caller's certificate's %s", got, want)
			}
			addr := "tls://" + ln.Addr().String()
			var opts []transport.Option
			if tc.client != nil {
				opts = append(opts, transport.WithTLSConfig(tc.client))
			}
			if tc.check == nil {
				s, err := transport.Dial(context.Background(), addr, opts...)
				if err != nil {
					t.Fatal(err)
				}
				checkEcho(t, s)
				s.Close()
				s.Wait()
				return
			}
			if err := dialErr(addr, opts...); !tc.check(err) {
				t.Errorf("dial: %v", err)
			}
		})
	}

	// A pinned certificate that expired is refused too.
	ln := tlsServer(t, "tls/$4:0", transport.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{ca.Expired(t)}}))
	if err := dialErr("tls://" + ln.Addr().String() + "?pin=" + fingerprintOf(t, ln)); !isExpired(err) {
		t.Errorf("pinned expired certificate: %v, want an expiry error", err)
	}
}

func isExpired(err error) bool {
	var inv x509.CertificateInvalidError
	return errors.As(err, &inv) && inv.Reason == x509.Expired
}

func isWrongHost(err error) bool {
	var host x509.HostnameError
	return errors.As(err, &host)
}

func isUnknownAuthority(err error) bool {
	var unknown x509.UnknownAuthorityError
	return errors.As(err, &unknown)
}

func TestTLSAddress(t *testing.T) {
	for _, addr := range []string{"tls://127.0.0.1", "tls://127.0.0.1:1/path", "tls:opaque", "tls://127.0.0.1:1?x=1"} {
		if err := dialErr(addr); !errors.Is(err, transport.ErrBadAddress) {
			t.Errorf("Dial(%q): %v, want ErrBadAddress", addr, err)
		}
		if _, err := transport.Listen(context.Background(), addr); !errors.Is(err, transport.ErrBadAddress) {
			t.Errorf("Listen(%q): %v, want ErrBadAddress", addr, err)
		}
	}
}

// wssServer serves a WebSocketHandler over TLS with cert, recording the
// query of each request. It serves echo sessions until the test ends.
func wssServer(t *testing.T, cert tls.Certificate) (url string, queries func() []string) {
	t.Helper()
	h := transport.NewWebSocketHandler()
	var (
		mu   sync.Mutex
		seen []string
	)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RawQuery)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.StartTLS()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			s, err := h.Accept(context.Background())
			if err != nil {
				return
			}
			wg.Go(func() { serveEcho(s) })
		}
	})
	t.Cleanup(func() {
		h.Close()
		ts.Close()
		wg.Wait()
	})
	return "wss://" + strings.TrimPrefix(ts.URL, "https://") + "/q", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func TestWebSocketTLSPinned(t *testing.T) {
	cert, err := transport.SelfSignedCertificate("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	url, queries := wssServer(t, cert)
	fp := transport.Fingerprint(cert.Leaf)

	s, err := transport.Dial(context.Background(), url+"?v=1&pin="+fp+"&w=2")
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, s)
	s.Close()
	s.Wait()
	if got := queries(); len(got) != 1 || got[0] != "v=1&w=2" {
		t.Errorf("the server saw the queries %q, want only [v=1&w=2]: the pin is not for the server", got)
	}

	if err := dialErr(url + "?pin=sha256:" + strings.Repeat("11", 32)); !errors.Is(err, transport.ErrPinMismatch) {
		t.Errorf("wrong pin: %v, want ErrPinMismatch", err)
	}
	if err := dialErr(url); !isUnknownAuthority(err) {
		t.Errorf("no pin: %v, want an x509.UnknownAuthorityError", err)
	}

	log := captureLog(t)
	if err := dialErr(url + "?insecure=1"); err != nil {
		t.Errorf("insecure: %v", err)
	}
	if !strings.Contains(log.String(), "level=WARN") {
		t.Errorf("insecure dial logged %q, want a warning", log.String())
	}
}

func TestWebSocketTLSRefused(t *testing.T) {
	ca := testcert.NewCA(t)
	client := transport.WithTLSConfig(&tls.Config{RootCAs: ca.Pool})
	for name, tc := range map[string]struct {
		cert  tls.Certificate
		check func(error) bool
	}{
		"expired":    {ca.Expired(t), isExpired},
		"wrong host": {ca.WrongHost(t), isWrongHost},
	} {
		url, _ := wssServer(t, tc.cert)
		if err := dialErr(url, client); !tc.check(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
