package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/transport"
)

func TestWebSocket(t *testing.T) {
	for _, tc := range []struct{ listen, path string }{
		{"ws://127.0.0.1:0/qtalk", "/qtalk"},
		{"ws/$4:0", "/anything"},
		{"websocket://127.0.0.1:0/x?y=1!chat", "/x?y=1"},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			testEcho(t, tc.listen, func(ln transport.Listener) string {
				return "ws://" + ln.Addr().String() + tc.path
			})
		})
	}
}

func TestWebSocketWrongPath(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "ws/$4:0/qtalk")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	url := "ws://" + ln.Addr().String() + "/other"
	_, err = transport.Dial(context.Background(), url+"?x=1")
	var ue *transport.UpgradeError
	if !errors.As(err, &ue) || ue.StatusCode != 404 || ue.Status != "404 Not Found" || ue.URL != url || !strings.Contains(err.Error(), "404") {
		t.Errorf("Dial to the wrong path: %v (%#v), want an *UpgradeError for 404 at %s", err, ue, url)
	}
}

// TestWebSocketForeignAnswer dials a server that answers the upgrade
// request in another protocol: an *UpgradeError with its first bytes.
func TestWebSocketForeignAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer func() {
		ln.Close()
		<-done
	}()
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 1))
			io.WriteString(c, "-ERR unknown command 'GET', with args beginning with: '/x'\r\n")
			c.Close()
		}
	}()
	for _, scheme := range []string{"ws", "wss"} {
		url := scheme + "://" + ln.Addr().String() + "/x"
		_, err = transport.Dial(context.Background(), url+"?pin=sha256:"+strings.Repeat("00", 32))
		var ue *transport.UpgradeError
		if !errors.As(err, &ue) || ue.StatusCode != 0 || string(ue.Prefix) != "-ERR unknown com" || ue.URL != url {
			t.Errorf("Dial %s: %v (%#v), want an *UpgradeError with the answer's first 16 bytes", url, err, ue)
		}
	}
}

// tlsConfigs returns a server config with httptest's certificate for
// 127.0.0.1 and a client config that trusts it.
func tlsConfigs(t *testing.T) (server, client *tls.Config) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	return ts.TLS.Clone(), ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

func TestWebSocketTLS(t *testing.T) {
	server, client := tlsConfigs(t)
	ctx := context.Background()
	ln, err := transport.Listen(ctx, "wss/$4:0/q", transport.WithTLSConfig(server))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept(ctx)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		serveEcho(s)
	}()
	addr := "wss://" + ln.Addr().String() + "/q"

	// Without the client config the certificate is not trusted.
	if _, err := transport.Dial(ctx, addr); err == nil {
		t.Error("Dial without the client TLS config succeeded")
	}
	s, err := transport.Dial(ctx, addr, transport.WithTLSConfig(client))
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, s)
	s.Close()
	<-done

	// Without a TLS config, a self-signed certificate that clients pin.
	testEcho(t, "wss/$4:0/q", func(ln transport.Listener) string {
		return "wss://" + ln.Addr().String() + "/q?pin=" + fingerprintOf(t, ln)
	})
}

func TestWebSocketHandler(t *testing.T) {
	h := transport.NewWebSocketHandler()
	mux := http.NewServeMux()
	mux.Handle("/qtalk", h)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer h.Close()

	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := h.Accept(ctx)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		serveEcho(s)
	}()
	addr := "ws://" + strings.TrimPrefix(ts.URL, "http://") + "/qtalk"
	s, err := transport.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, s)
	s.Close()
	<-done

	// A connection upgraded but never accepted is closed by Close.
	s2, err := transport.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	werr := make(chan error, 1)
	go func() { werr <- s2.Wait() }()
	select {
	case <-werr:
	case <-time.After(10 * time.Second):
		t.Fatal("session of an unaccepted connection did not end after the handler's Close")
	}
	if _, err := h.Accept(ctx); !errors.Is(err, transport.ErrListenerClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
	// After Close the handler refuses upgrades.
	if _, err := transport.Dial(ctx, addr); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Dial after the handler's Close: %v, want a 503 error", err)
	}
}
