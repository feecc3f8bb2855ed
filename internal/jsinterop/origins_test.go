//go:build browser

package jsinterop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/qtalkkit/qtalk/transport"
)

// originPage opens a WebSocket to the address in its query (?ws=...) and
// sets window.outcome: "confirmed" if the server answered a qmux OPEN
// (channel 1, window 4096, max packet 1024) with a confirmation, or
// "closed CODE" if the WebSocket closed first.
const originPage = `<!doctype html>
<meta charset="utf-8">
<title>a page of another origin</title>
<script>
const ws = new WebSocket(new URLSearchParams(location.search).get("ws"));
ws.binaryType = "arraybuffer";
ws.onopen = () => ws.send(new Uint8Array([100, 0, 0, 0, 1, 0, 0, 16, 0, 0, 0, 4, 0]));
ws.onmessage = (e) => {
	const type = new Uint8Array(e.data)[0];
	window.outcome = type === 101 ? "confirmed" : "answered with message " + type;
	ws.close();
};
ws.onclose = (e) => { window.outcome ||= "closed " + e.code; };
</script>
`

// Pages of other origins than a ws listener's open WebSockets to it when
// an allowed-origins pattern matches their origin, and are refused, with
// the refusal reported with their origin, when none does.
func TestWebSocketOrigins(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, originPage)
	})
	allowed := httptest.NewServer(page)
	t.Cleanup(allowed.Close)
	refused := httptest.NewServer(page)
	t.Cleanup(refused.Close)
	// The pages are served as localhost, the listener as 127.0.0.1: two
	// origins.
	originOf := func(s *httptest.Server) string {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		return "http://localhost:" + u.Port()
	}

	var (
		mu       sync.Mutex
		refusals []string
	)
	ln, wsAddr := listen(t, "ws://127.0.0.1:0/qtalk",
		transport.WithAllowedOrigins(originOf(allowed)[len("http://"):]), // the pattern names host and port
		transport.WithOriginRefused(func(origin string, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			refusals = append(refusals, origin)
		}))
	serveDemo(t, ln)

	b := newBrowser(t)
	for _, tc := range []struct {
		origin string
		want   string
	}{
		{originOf(allowed), "confirmed"},
		{originOf(refused), "closed 1006"}, // the upgrade failed
	} {
		b.do(t, "loading the page of "+tc.origin, chromedp.Navigate(tc.origin+"/?ws="+url.QueryEscape(wsAddr)))
		if got := waitFor[string](t, b, "the WebSocket's outcome", "window.outcome"); got != tc.want {
			t.Errorf("a page of %s opening a WebSocket to %s: %s, want %s", tc.origin, wsAddr, got, tc.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{originOf(refused)}; !slices.Equal(refusals, want) {
		t.Errorf("the listener reported refusing %q, want %q", refusals, want)
	}
}
