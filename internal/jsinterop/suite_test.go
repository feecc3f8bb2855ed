//go:build browser

package jsinterop

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qtalkkit/qtalk/internal/check"
	"github.com/qtalkkit/qtalk/transport"
)

// suitePage loads the bundle of the TypeScript suite's browser part.
const suitePage = `<!doctype html>
<meta charset="utf-8">
<title>qtalk browser suite</title>
<pre id="results"></pre>
<script type="module" src="suite.js"></script>
`

// suiteOutcome is what the suite publishes as window.qtalkSuite.
type suiteOutcome struct {
	Done    bool          `json:"done"`
	Passed  int           `json:"passed"`
	Failed  int           `json:"failed"`
	Results []suiteResult `json:"results"`
}

// suiteResult is the outcome of one of the suite's cases.
type suiteResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// The browser part of the TypeScript suite (js/src/browser/suite.ts),
// bundled with esbuild, runs in chromium against Go over WebSockets of its
// page's origin: the qmux scenarios against a Go echo at /qmux, the
// interop check against the Go demo server at /qtalk.
func TestBrowserSuite(t *testing.T) {
	dir := t.TempDir()
	bundle(t, "js/src/browser/suite.ts", filepath.Join(dir, "suite.js"))
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(suitePage), 0o644); err != nil {
		t.Fatal(err)
	}
	qtalkWS := transport.NewWebSocketHandler()
	serveDemo(t, qtalkWS)
	qmuxWS := transport.NewWebSocketHandler()
	echo := new(echoServer)
	serveSessions(t, qmuxWS, echo.serve)
	routes := http.NewServeMux()
	routes.Handle("/qtalk", qtalkWS)
	routes.Handle("/qmux", qmuxWS)
	routes.Handle("/", http.FileServer(http.Dir(dir)))
	srv := httptest.NewServer(routes)
	t.Cleanup(srv.Close)

	b := newBrowser(t)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// How far the suite got: it shows each step in #results as it
		// ends, so a step that hung is told from a suite that was slow.
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("results")?.textContent ?? ""`))
		t.Logf("the suite's steps that ended (#results): %q, %v", shown, err)
	})
	b.do(t, "loading the suite", chromedp.Navigate(srv.URL+"/"))
	awaitSuiteSteps(t, b)
	got := run(t, b, "reading the outcome", chromedp.Evaluate[suiteOutcome](`window.qtalkSuite`))

	var report strings.Builder
	for _, r := range got.Results {
		fmt.Fprintf(&report, "\n  ok=%v %s %s", r.OK, r.Name, r.Error)
	}
	if got.Failed != 0 || got.Passed != len(got.Results) {
		t.Errorf("the suite reports %d passed, %d failed:%s", got.Passed, got.Failed, report.String())
	}
	for _, want := range append([]string{"channels-100", "transfer-", "half-close", "slow-reader"}, check.Names()...) {
		if !slices.ContainsFunc(got.Results, func(r suiteResult) bool { return r.OK && strings.Contains(r.Name, want) }) {
			t.Errorf("no passed result named like %q:%s", want, report.String())
		}
	}
	if n := echo.channels.Load(); n < 100 {
		t.Errorf("the Go echo accepted %d channels, want at least 100", n)
	}
	if shown := run(t, b, "reading #results", chromedp.Text(chromedp.CSS("#results"))); shown == "" {
		t.Error("the suite shows no results in #results")
	}
}

// suiteProgress is how far the suite got: the lines of #results of the
// steps that ended, and whether it finished.
type suiteProgress struct {
	Done  bool     `json:"done"`
	Steps []string `json:"steps"`
}

// awaitSuiteSteps waits for the suite to finish, each of its steps within the
// guard, rather than the whole suite within one: a step that stalls fails
// the test by its place, after the last step that ended.
func awaitSuiteSteps(t *testing.T, b *browser) {
	t.Helper()
	var ended []string
	for {
		last := "none: the suite's first"
		if len(ended) > 0 {
			last = "after " + ended[len(ended)-1]
		}
		// A line of #results starts with PASS or FAIL; an error can run on
		// to more lines, which are not steps.
		p := waitFor[suiteProgress](t, b, fmt.Sprintf("step %d of the suite to end (%s)", len(ended)+1, last), fmt.Sprintf(`(() => {
			const steps = (document.getElementById("results")?.textContent ?? "").split("\n").filter((l) => /^(PASS|FAIL) /.test(l));
			const done = window.qtalkSuite?.done === true;
			return done || steps.length > %d ? { done, steps } : null;
		})()`, len(ended)))
		if p.Done {
			return
		}
		ended = p.Steps
	}
}

// bundle bundles the TypeScript module entry, a path from the repository's
// root, into one ES module with esbuild.
func bundle(t *testing.T, entry, out string) {
	t.Helper()
	esbuild := filepath.Join(repoRoot, "js", "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		t.Fatalf("%v: %s", err, installPackages)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, esbuild, entry, "--bundle", "--format=esm", "--outfile="+out)
	cmd.Dir = repoRoot
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild %s: %v\n%s", entry, err, msg)
	}
}
