package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/coder/websocket"

	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
	"github.com/qtalkkit/qtalk/transport"
)

// upgradeStatus asks url for a WebSocket from a page of origin and
// returns the status of the answer.
func upgradeStatus(t *testing.T, url, origin string) int {
	t.Helper()
	ws, resp, err := websocket.Dial(testCtx(t), url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err == nil {
		ws.CloseNow()
	}
	if resp == nil {
		t.Fatalf("upgrade of %s from origin %q: no response: %v", url, origin, err)
	}
	return resp.StatusCode
}

// The ws listeners take the listen options and the config's
// allow_origins, which a reload changes.
func TestListenOptionsAndOrigins(t *testing.T) {
	const doc = "listen = [\"ws://127.0.0.1:0/q\"]\nallow_origins = [%q]\n"
	cfg, err := config.Parse(fmt.Appendf(nil, doc, "a.example.com"), "qtalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan string, 1)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") })
	srv, err := service.New(cfg,
		service.WithLogger(slog.New(newLogRecorder(t))),
		service.WithListenOptions(
			transport.WithHTTPHandler(page),
			transport.WithOriginRefused(func(origin string, _ *http.Request) { refused <- origin }),
			transport.WithAllowedOrigins("c.example.com"),
		))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	host := srv.Addrs()[0].String()
	url := "ws://" + host + "/q"

	resp, err := http.Get("http://" + host + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "page" {
		t.Errorf("GET / answered %q, want the page", body)
	}

	wantRefused := func(origin string) {
		t.Helper()
		if got := upgradeStatus(t, url, origin); got != http.StatusForbidden {
			t.Errorf("upgrade from %s: status %d, want 403", origin, got)
			return
		}
		if got := <-refused; got != origin {
			t.Errorf("refused origin reported as %q, want %q", got, origin)
		}
	}
	if got := upgradeStatus(t, url, "http://a.example.com"); got != http.StatusSwitchingProtocols {
		t.Errorf("upgrade from an allowed origin: status %d, want 101", got)
	}
	wantRefused("http://b.example.com")

	next, err := config.Parse(fmt.Appendf(nil, doc, "b.example.com"), "qtalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	next.Listen = []string{"ws://" + host + "/q"} // the listener already open
	if err := srv.Reload(next); err != nil {
		t.Fatal(err)
	}
	if got := upgradeStatus(t, url, "http://b.example.com"); got != http.StatusSwitchingProtocols {
		t.Errorf("upgrade from the origin a reload allowed: status %d, want 101", got)
	}
	wantRefused("http://a.example.com")
	if got := upgradeStatus(t, url, "http://c.example.com"); got != http.StatusSwitchingProtocols {
		t.Errorf("upgrade from the origin of the listen options after a reload: status %d, want 101", got)
	}
}
