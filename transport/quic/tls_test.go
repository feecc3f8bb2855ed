package quic_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/mux"
	muxquic "github.com/qtalkkit/qtalk/mux/quic"
	"github.com/qtalkkit/qtalk/transport"
	"github.com/qtalkkit/qtalk/transport/quic"
)

// testContext returns a context that bounds one step of a test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// server listens on a quic address with opts and echoes every channel of
// every session until the test ends.
func server(t *testing.T, opts ...transport.Option) transport.Listener {
	t.Helper()
	ln, err := transport.Listen(context.Background(), "quic/$4:0", opts...)
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
			wg.Go(func() {
				defer s.Close()
				for {
					c, err := s.Accept(context.Background())
					if err != nil {
						return
					}
					wg.Go(func() {
						io.Copy(c, c)
						c.Close()
					})
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln
}

// echoOnce dials addr, checks a message through the echo, and closes the
// session.
func echoOnce(t *testing.T, addr string, opts ...transport.Option) {
	t.Helper()
	ctx := testContext(t)
	s, err := transport.Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("Dial(%s): %v", addr, err)
	}
	defer func() {
		s.Close()
		s.Wait()
	}()
	c, err := s.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("hello over quic")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

// dialErr dials addr with opts, closing the session if that works, and
// returns the error.
func dialErr(t *testing.T, addr string, opts ...transport.Option) error {
	s, err := transport.Dial(testContext(t), addr, opts...)
	if err == nil {
		s.Close()
		s.Wait()
	}
	return err
}

var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func TestPinnedSelfSigned(t *testing.T) {
	ln := server(t)
	fp := ln.(transport.Fingerprinter).Fingerprint()
	if !fingerprintRE.MatchString(fp) {
		t.Fatalf("Fingerprint() = %q", fp)
	}
	addr := "quic://" + ln.Addr().String()
	echoOnce(t, addr+"?pin="+fp)
	echoOnce(t, "quic/"+ln.Addr().String()+"?pin="+strings.ToUpper(fp))
	echoOnce(t, addr, transport.WithPin(fp))

	err := dialErr(t, addr+"?pin=sha256:"+strings.Repeat("ee", 32))
	if !errors.Is(err, transport.ErrPinMismatch) {
		t.Errorf("wrong pin: %v, want ErrPinMismatch", err)
	}
	if err := dialErr(t, addr, transport.WithPin("sha256:"+strings.Repeat("ee", 32))); !errors.Is(err, transport.ErrPinMismatch) {
		t.Errorf("wrong pin option: %v, want ErrPinMismatch", err)
	}
	// Neither pin nor config: the system roots do not know the certificate.
	var unknown x509.UnknownAuthorityError
	if err := dialErr(t, addr); !errors.As(err, &unknown) {
		t.Errorf("no pin: %v, want an x509.UnknownAuthorityError", err)
	}
	if err := dialErr(t, addr+"?pin=sha256:12"); !errors.Is(err, transport.ErrBadPin) {
		t.Errorf("malformed pin: %v, want ErrBadPin", err)
	}
}

func TestInsecure(t *testing.T) {
	ln := server(t)
	addr := "quic://" + ln.Addr().String()
	for _, tc := range []struct {
		addr string
		opts []transport.Option
	}{
		{addr + "?insecure=1", nil},
		{addr, []transport.Option{transport.WithInsecureSkipVerify()}},
	} {
		var log bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
		echoOnce(t, tc.addr, tc.opts...)
		slog.SetDefault(old)
		if !strings.Contains(log.String(), "level=WARN") {
			t.Errorf("insecure dial of %s logged %q, want a warning", tc.addr, log.String())
		}
	}
}

func TestCallerTLSConfig(t *testing.T) {
	c := testcert.NewCA(t)
	now := time.Now()
	client := transport.WithTLSConfig(&tls.Config{RootCAs: c.Pool})
	serve := func(cert tls.Certificate) string {
		ln := server(t, transport.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}))
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := ln.(transport.Fingerprinter).Fingerprint(); got != transport.Fingerprint(leaf) {
			t.Errorf("Fingerprint() = %s, want the caller's certificate's %s", got, transport.Fingerprint(leaf))
		}
		return "quic://" + ln.Addr().String()
	}

	echoOnce(t, serve(c.Issue(t, now.Add(-time.Hour), now.Add(time.Hour), "127.0.0.1")), client)

	var invalid x509.CertificateInvalidError
	expired := serve(c.Issue(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), "127.0.0.1"))
	if err := dialErr(t, expired, client); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("expired certificate: %v, want an expiry error", err)
	}

	var host x509.HostnameError
	if err := dialErr(t, serve(c.Issue(t, now.Add(-time.Hour), now.Add(time.Hour), "other.example")), client); !errors.As(err, &host) {
		t.Errorf("certificate for another host: %v, want an x509.HostnameError", err)
	}
}

func TestPinnedExpired(t *testing.T) {
	c := testcert.NewCA(t)
	now := time.Now()
	cert := c.Issue(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), "127.0.0.1")
	ln := server(t, transport.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}))
	fp := ln.(transport.Fingerprinter).Fingerprint()
	var invalid x509.CertificateInvalidError
	if err := dialErr(t, "quic://"+ln.Addr().String()+"?pin="+fp); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("pinned expired certificate: %v, want an expiry error", err)
	}
}

// The sessions of quic addresses negotiate qtalk's ALPN, and their
// listener's Accept fails with transport.ErrListenerClosed once it is
// closed, while the session it accepted goes on.
func TestALPNAndListenerClose(t *testing.T) {
	ctx := testContext(t)
	ln, err := transport.Listen(ctx, "quic/$4:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan mux.Session, 1)
	go func() {
		s, _ := ln.Accept(ctx)
		accepted <- s
	}()
	a, err := transport.Dial(ctx, "quic://"+ln.Addr().String()+"?pin="+ln.(transport.Fingerprinter).Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := <-accepted
	if b == nil {
		t.Fatal("Accept failed")
	}
	defer b.Close()
	for _, s := range []mux.Session{a, b} {
		if got := s.(*muxquic.Session).ConnectionState().TLS.NegotiatedProtocol; got != transport.ALPN {
			t.Errorf("negotiated protocol %q, want %q", got, transport.ALPN)
		}
	}
	pending := make(chan error, 1)
	go func() {
		_, err := ln.Accept(ctx)
		pending <- err
	}()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-pending; !errors.Is(err, transport.ErrListenerClosed) {
		t.Errorf("Accept after Close: %v, want transport.ErrListenerClosed", err)
	}
	oc, err := a.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	ac, err := b.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	if _, err := oc.Write([]byte("x")); err != nil {
		t.Error(err)
	}
	if _, err := io.ReadFull(ac, make([]byte, 1)); err != nil {
		t.Errorf("a channel of the accepted session after the listener's Close: %v", err)
	}
}

// WithConfig reaches the sessions: an invalid one fails Dial and Listen.
func TestWithConfig(t *testing.T) {
	bad := quic.WithConfig(&muxquic.Config{AcceptBacklog: -1})
	if _, err := transport.Listen(context.Background(), "quic/$4:0", bad); !errors.Is(err, muxquic.ErrInvalidConfig) {
		t.Errorf("Listen with an invalid Config: %v, want ErrInvalidConfig", err)
	}
	if err := dialErr(t, "quic/$4:1?pin=sha256:"+strings.Repeat("00", 32), bad); !errors.Is(err, muxquic.ErrInvalidConfig) {
		t.Errorf("Dial with an invalid Config: %v, want ErrInvalidConfig", err)
	}
}

func TestQUICAddress(t *testing.T) {
	for _, addr := range []string{"quic://127.0.0.1", "quic://127.0.0.1:1/path", "quic:opaque", "quic://127.0.0.1:1?x=1", "quic://127.0.0.1:1?insecure=2"} {
		if err := dialErr(t, addr); !errors.Is(err, transport.ErrBadAddress) {
			t.Errorf("Dial(%q): %v, want ErrBadAddress", addr, err)
		}
		if _, err := transport.Listen(context.Background(), addr); !errors.Is(err, transport.ErrBadAddress) {
			t.Errorf("Listen(%q): %v, want ErrBadAddress", addr, err)
		}
	}
	// The dial context bounds the handshake with a server that is not
	// there.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := transport.Dial(ctx, "quic/$4:9?pin=sha256:"+strings.Repeat("00", 32)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial of nothing: %v, want context.DeadlineExceeded", err)
	}
}
