package transport_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/qtalkkit/qtalk/transport"
)

// upgradeStatus asks url for a WebSocket with the Origin header origin
// ("" for none) and returns the status of the answer.
func upgradeStatus(t *testing.T, url, origin string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	header := http.Header{}
	if origin != "" {
		header.Set("Origin", origin)
	}
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		ws.CloseNow()
	}
	if resp == nil {
		t.Fatalf("upgrade of %s from origin %q: no response: %v", url, origin, err)
	}
	return resp.StatusCode
}

// originLog collects the origins a listener reports refused, each with
// the Origin header of the request reported.
type originLog chan [2]string

func (l originLog) refused(origin string, r *http.Request) {
	l <- [2]string{origin, r.Header.Get("Origin")}
}

// next returns the next origin reported.
func (l originLog) next(t *testing.T) string {
	t.Helper()
	select {
	case o := <-l:
		if o[0] != o[1] {
			t.Errorf("origin %q reported with a request from %q", o[0], o[1])
		}
		return o[0]
	case <-time.After(10 * time.Second):
		t.Fatal("no refused origin reported")
		return ""
	}
}

// none checks that no origin was reported.
func (l originLog) none(t *testing.T) {
	t.Helper()
	select {
	case o := <-l:
		t.Errorf("origin %q reported refused", o[0])
	default:
	}
}

// checkOrigins checks the origin rules of a WebSocket at url whose
// handler allows "*.example.com" and "http://localhost:5173" and reports
// refusals to refused.
func checkOrigins(t *testing.T, url string, refused originLog) {
	host := strings.TrimPrefix(url, "ws://")
	host = host[:strings.Index(host, "/")]
	for _, tc := range []struct {
		origin string
		want   int
	}{
		{"", http.StatusSwitchingProtocols},                                                    // not a browser
		{"http://" + host, http.StatusSwitchingProtocols},                                      // the page's own origin
		{"https://app.example.com", http.StatusSwitchingProtocols},                             // by host pattern
		{"http://localhost:5173", http.StatusSwitchingProtocols},                               // by scheme and host
		{"https://localhost:5173", http.StatusForbidden},                                       // another scheme
		{"https://example.com", http.StatusForbidden},                                          // not a subdomain
		{"https://app.example.com.evil.test", http.StatusForbidden},                            // a suffix
		{"http://" + strings.Replace(host, "127.0.0.1", "localhost", 1), http.StatusForbidden}, // the same server by another name
	} {
		if got := upgradeStatus(t, url, tc.origin); got != tc.want {
			t.Errorf("upgrade from origin %q: status %d, want %d", tc.origin, got, tc.want)
			continue
		}
		if tc.want == http.StatusForbidden {
			if got := refused.next(t); got != tc.origin {
				t.Errorf("refused origin reported as %q, want %q", got, tc.origin)
			}
		}
		refused.none(t)
	}
}

var testOrigins = []string{"*.example.com", "http://localhost:5173"}

func TestWebSocketAllowedOrigins(t *testing.T) {
	refused := make(originLog, 1)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page at "+r.URL.Path)
	})
	opts := []transport.Option{
		transport.WithAllowedOrigins(testOrigins...),
		transport.WithOriginRefused(refused.refused),
		transport.WithHTTPHandler(page),
	}
	ln, err := transport.Listen(context.Background(), "ws/$4:0/qtalk", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	checkOrigins(t, "ws://"+ln.Addr().String()+"/qtalk", refused)

	// The other paths, and a plain GET of the WebSocket's, go to the handler.
	for _, p := range []string{"/", "/app.js", "/qtalk/x"} {
		if got := get(t, "http://"+ln.Addr().String()+p); got != "200 page at "+p {
			t.Errorf("GET %s: %q, want the page handler's answer", p, got)
		}
	}
	if got := get(t, "http://"+ln.Addr().String()+"/qtalk"); !strings.HasPrefix(got, "426 ") {
		t.Errorf("GET of the WebSocket path without an upgrade: %q, want 426", got)
	}

	// The WebSocket still carries sessions.
	testEcho(t, "ws/$4:0/qtalk", func(ln transport.Listener) string {
		return "ws://" + ln.Addr().String() + "/qtalk"
	}, opts...)
}

// get returns the status code and body of a GET of url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.Status[:3] + " " + string(body)
}

// Without a path, upgrades on any path go to the WebSocket and the rest
// to the handler.
func TestWebSocketHTTPHandlerNoPath(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page")
	})
	opts := []transport.Option{transport.WithHTTPHandler(page)}
	ln, err := transport.Listen(context.Background(), "ws/$4:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, p := range []string{"/", "/x"} {
		if got := get(t, "http://"+ln.Addr().String()+p); got != "200 page" {
			t.Errorf("GET %s: %q, want the page handler's answer", p, got)
		}
	}
	testEcho(t, "ws/$4:0", func(ln transport.Listener) string {
		return "ws://" + ln.Addr().String() + "/any/path"
	}, opts...)
}

func TestWebSocketHandlerAllowedOrigins(t *testing.T) {
	refused := make(originLog, 1)
	h := transport.NewWebSocketHandler(transport.WithAllowedOrigins(testOrigins...), transport.WithOriginRefused(refused.refused))
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer h.Close()
	checkOrigins(t, "ws://"+strings.TrimPrefix(ts.URL, "http://")+"/qtalk", refused)
}

// Without allowed origins, only the page's own origin is.
func TestWebSocketOriginsDefault(t *testing.T) {
	refused := make(originLog, 1)
	ln, err := transport.Listen(context.Background(), "ws/$4:0/q", transport.WithOriginRefused(refused.refused))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	url := "ws://" + ln.Addr().String() + "/q"
	if got := upgradeStatus(t, url, "http://"+ln.Addr().String()); got != http.StatusSwitchingProtocols {
		t.Errorf("upgrade from the page's own origin: status %d", got)
	}
	if got := upgradeStatus(t, url, "http://app.example.com"); got != http.StatusForbidden {
		t.Errorf("upgrade from another origin: status %d, want 403", got)
	}
	if got := refused.next(t); got != "http://app.example.com" {
		t.Errorf("refused origin reported as %q", got)
	}
}

func TestWebSocketBadOriginPattern(t *testing.T) {
	_, err := transport.Listen(context.Background(), "ws/$4:0/q", transport.WithAllowedOrigins("ok.test", "[bad"))
	if !errors.Is(err, transport.ErrBadOriginPattern) || !errors.Is(err, path.ErrBadPattern) || !strings.Contains(err.Error(), `"[bad"`) {
		t.Errorf("Listen with a bad origin pattern: %v, want ErrBadOriginPattern naming it", err)
	}
	if _, err := transport.Listen(context.Background(), "ws/$4:0/q", transport.WithAllowedOrigins("")); !errors.Is(err, transport.ErrBadOriginPattern) {
		t.Errorf("Listen with an empty origin pattern: %v, want ErrBadOriginPattern", err)
	}

	h := transport.NewWebSocketHandler(transport.WithAllowedOrigins("[bad"))
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer h.Close()
	if got := upgradeStatus(t, "ws://"+strings.TrimPrefix(ts.URL, "http://"), ""); got != http.StatusInternalServerError {
		t.Errorf("upgrade through a handler with a bad origin pattern: status %d, want 500", got)
	}
	if _, err := h.Accept(context.Background()); !errors.Is(err, transport.ErrBadOriginPattern) {
		t.Errorf("Accept of a handler with a bad origin pattern: %v, want ErrBadOriginPattern", err)
	}
}

// The origins allowed can change while a listener runs.
func TestWebSocketSetAllowedOrigins(t *testing.T) {
	refused := make(originLog, 1)
	ln, err := transport.Listen(context.Background(), "ws/$4:0/q", transport.WithOriginRefused(refused.refused))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	url := "ws://" + ln.Addr().String() + "/q"
	setter, ok := ln.(interface{ SetAllowedOrigins(...string) error })
	if !ok {
		t.Fatalf("a ws listener (%T) has no SetAllowedOrigins", ln)
	}
	if got := upgradeStatus(t, url, "http://app.example.com"); got != http.StatusForbidden {
		t.Errorf("upgrade before the origin is allowed: status %d, want 403", got)
	}
	refused.next(t)
	if err := setter.SetAllowedOrigins("app.example.com"); err != nil {
		t.Fatal(err)
	}
	if got := upgradeStatus(t, url, "http://app.example.com"); got != http.StatusSwitchingProtocols {
		t.Errorf("upgrade once the origin is allowed: status %d, want 101", got)
	}
	if err := setter.SetAllowedOrigins("[bad"); !errors.Is(err, transport.ErrBadOriginPattern) {
		t.Errorf("SetAllowedOrigins with a bad pattern: %v, want ErrBadOriginPattern", err)
	}
	if got := upgradeStatus(t, url, "http://app.example.com"); got != http.StatusSwitchingProtocols {
		t.Errorf("upgrade after a failed SetAllowedOrigins: status %d, want the origin still allowed", got)
	}
	if err := setter.SetAllowedOrigins(); err != nil {
		t.Fatal(err)
	}
	if got := upgradeStatus(t, url, "http://app.example.com"); got != http.StatusForbidden {
		t.Errorf("upgrade once no origin is allowed: status %d, want 403", got)
	}
	refused.next(t)
	refused.none(t)
}
