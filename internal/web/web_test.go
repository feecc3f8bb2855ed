package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/internal/web"
)

// serve returns the response of h to a request.
func serve(h http.Handler, method, target string, header http.Header) *http.Response {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFiles(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/index.html", "text/html; charset=utf-8", `id="chat-log"`},
		{"/app.js", "text/javascript; charset=utf-8", ""},
		{"/style.css", "text/css; charset=utf-8", "#chat-log"},
	} {
		resp := serve(h, http.MethodGet, tc.path, nil)
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.contentType || !strings.Contains(b, tc.contains) || b == "" {
			t.Errorf("GET %s: %s, Content-Type %q, %d bytes; want 200, %q, with %q",
				tc.path, resp.Status, resp.Header.Get("Content-Type"), len(b), tc.contentType, tc.contains)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", tc.path, got)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: headers %v, want nosniff and a Content-Security-Policy", tc.path, resp.Header)
		}
	}
}

func TestNotFound(t *testing.T) {
	h := web.Handler()
	for _, p := range []string{"/nope.js", "/static/app.js", "/static/", "/app.js/", "/..%2fweb.go", "/web.go"} {
		if resp := serve(h, http.MethodGet, p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
}

func TestMethods(t *testing.T) {
	h := web.Handler()
	resp := serve(h, http.MethodHead, "/app.js", nil)
	if resp.StatusCode != http.StatusOK || body(t, resp) != "" || resp.ContentLength <= 0 {
		t.Errorf("HEAD /app.js: %s, length %d; want 200 with a length and no body", resp.Status, resp.ContentLength)
	}
	resp = serve(h, http.MethodPost, "/", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %s, Allow %q; want 405, GET, HEAD", resp.Status, resp.Header.Get("Allow"))
	}
}

// A browser's revalidation of a file it has is answered 304 Not Modified.
func TestRevalidate(t *testing.T) {
	h := web.Handler()
	etag := serve(h, http.MethodGet, "/style.css", nil).Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if resp := serve(h, http.MethodGet, "/style.css", http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET with the ETag: %s, want 304", resp.Status)
	}
	if resp := serve(h, http.MethodGet, "/app.js", http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusOK {
		t.Errorf("GET of another file with that ETag: %s, want 200", resp.Status)
	}
}
