//go:build browser

package jsinterop

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// A browser is a tab of a headless chromium started for a test.
type browser struct {
	ctx context.Context // the tab's chromedp context

	mu      sync.Mutex // guards console
	console []string   // what the page wrote to its console, and its uncaught exceptions

	networkEvents atomic.Int64 // events of the Network domain the tab sent, which must be none
}

// newBrowser starts Debian's chromium headless, as root can run it on a
// machine whose network is closed, and stops it when the test ends. The
// page's console is logged if the test failed.
//
// The tab's Network domain is turned off: chromedp enables it when it
// attaches to a tab, and chromium then sends an event for every request and
// for every WebSocket frame the page sends or receives, which the tests'
// pages do by the thousand. Under load chromedp's client fell 20 to 29 s
// behind decoding them, and every action of the test, queued behind them,
// outlasted its guard. The test fails if the tab sends any such event.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("%v: %s", err, installChromium)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		// Without these, chromium's own connections are refused by the
		// closed network and slow it down.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{ctx: ctx}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		if n := b.networkEvents.Load(); n != 0 {
			t.Errorf("the tab sent %d events of the Network domain after Network.disable", n)
		}
		chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
		wg.Wait()
		if t.Failed() {
			t.Logf("the console of the page:\n%s", b.consoleText())
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	if _, err := chromedp.Call(ctx, network.Disable, cdp.Empty{}); err != nil {
		t.Fatalf("Network.disable: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if strings.HasPrefix(fmt.Sprintf("%T", ev), "*network.") {
			b.networkEvents.Add(1)
		}
	}); err != nil {
		t.Fatalf("listening to the tab's events: %v", err)
	}
	messages := chromedp.Console(ctx)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m.String())
			b.mu.Unlock()
		}
	})
	return b
}

func (b *browser) consoleText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.console, "\n")
}

// run runs an action in the tab, within the guard, and returns its value.
func run[T any](t *testing.T, b *browser, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, guard)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs actions in the tab, in order, within the guard.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, b, what, chromedp.Steps(actions...))
}

// waitFor waits until the JavaScript expression is truthy in the page, and
// returns its value.
func waitFor[T any](t *testing.T, b *browser, what, expr string) T {
	t.Helper()
	return run(t, b, "waiting for "+what, chromedp.Poll[T](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(guard)))
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}
