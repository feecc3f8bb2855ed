package main_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// httpGet returns the status, content type and body of a GET of url.
func httpGet(t *testing.T, url string) (status int, contentType, body string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// upgradeStatus asks the ws address addr for a WebSocket from a page of
// origin and returns the status of the answer.
func upgradeStatus(t *testing.T, addr, origin string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, addr, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err == nil {
		ws.CloseNow()
	}
	if resp == nil {
		t.Fatalf("upgrade of %s from origin %q: no response: %v", addr, origin, err)
	}
	return resp.StatusCode
}

// checkWeb checks that the ws listener of s serves the page, lets pages
// of its own origin and of http://localhost:5173 open WebSockets, and
// refuses and logs the others.
func checkWeb(t *testing.T, s *server) {
	t.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(s.ws, "ws://"), "/qtalk")
	status, ctype, body := httpGet(t, "http://"+host+"/")
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, `id="chat-log"`) {
		t.Errorf("GET /: %d %q, %d bytes; want the page", status, ctype, len(body))
	}
	if status, ctype, _ := httpGet(t, "http://"+host+"/app.js"); status != http.StatusOK || !strings.HasPrefix(ctype, "text/javascript") {
		t.Errorf("GET /app.js: %d %q, want 200 text/javascript", status, ctype)
	}
	if status, _, _ := httpGet(t, "http://"+host+"/nope"); status != http.StatusNotFound {
		t.Errorf("GET /nope: %d, want 404", status)
	}
	for _, origin := range []string{"http://" + host, "http://localhost:5173"} {
		if got := upgradeStatus(t, s.ws, origin); got != http.StatusSwitchingProtocols {
			t.Errorf("upgrade from origin %s: status %d, want 101", origin, got)
		}
	}
	if got := upgradeStatus(t, s.ws, "https://evil.example"); got != http.StatusForbidden {
		t.Errorf("upgrade from another origin: status %d, want 403", got)
	}
	s.waitLog(t, `WARN listener(/\S+)?\] websocket origin refused origin=https://evil\.example `)
}

func TestServeWeb(t *testing.T) {
	t.Parallel()
	checkWeb(t, serve(t, "--allow-origin", "*.example.com", "--allow-origin", "http://localhost:5173"))
}

func TestServeWebConfig(t *testing.T) {
	t.Parallel()
	config := `allow_origins = ["*.example.com", "http://localhost:5173"]` + demoConfig
	checkWeb(t, serveArgs(t, "serve", "--config", writeConfig(t, config)))
}

func TestServeAllowOriginErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		stderr string // a regexp of the whole of stderr
	}{
		{[]string{"serve", "--listen", "ws://127.0.0.1:0", "--allow-origin", "[bad"},
			`qtalk: serve: --allow-origin: .*bad origin pattern.*"\[bad"`},
		{[]string{"serve", "--listen", "ws://127.0.0.1:0", "--allow-origin", ""},
			`qtalk: serve: --allow-origin: .*bad origin pattern.*""`},
		{[]string{"serve", "--config", "qtalk.toml", "--allow-origin", "localhost:5173"},
			`qtalk: serve: --allow-origin and --config do not mix: .*allow_origins.*`},
	} {
		r := qtalk(t, "", tc.args...)
		r.want(t, 2, strings.Join(tc.args, " "))
		if !regexp.MustCompile(`^` + tc.stderr + `\n$`).MatchString(r.stderr) {
			t.Errorf("qtalk %q printed %q on stderr, want one line matching %q", tc.args, r.stderr, tc.stderr)
		}
	}
	r := qtalk(t, "", "serve", "--help")
	r.want(t, 0, "serve --help")
	for _, want := range []string{"--allow-origin PATTERN", "http://127.0.0.1:4243/", "allow_origins"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help does not mention %q", want)
		}
	}
}
