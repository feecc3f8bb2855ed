//go:build browser

package jsinterop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qtalkkit/qtalk/internal/demo"
	"github.com/qtalkkit/qtalk/talk"
)

// buildQtalk builds cmd/qtalk into the test's temp dir, with the race
// detector if the test has it (so the packages come from the same cache).
func buildQtalk(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "qtalk")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, append(args, "./cmd/qtalk")...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/qtalk: %v\n%s", err, out)
	}
	return bin
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	return ok && slices.ContainsFunc(info.Settings, func(s debug.BuildSetting) bool {
		return s.Key == "-race" && s.Value == "true"
	})
}

// The page qtalk serve offers on its ws listener works in chromium: it
// connects, chats (its messages and those of a Go client arrive through
// its subscription), sets and gets kv values that a Go client sees and
// sets, echoes, and answers the server's callback.
func TestWebPage(t *testing.T) {
	srv := startChild(t, true, false, buildQtalk(t), "serve", "-v", "--listen", "ws://127.0.0.1:0/qtalk")
	wsAddr := srv.listening(t)
	pageURL := "http://" + strings.TrimSuffix(strings.TrimPrefix(wsAddr, "ws://"), "/qtalk") + "/"

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	goClient, err := talk.Dial(ctx, wsAddr)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer goClient.Close()
	// call calls the server as the Go client, within the guard: each call
	// its own, as the browser's steps between them take what the machine
	// gives them (under load, chromium took 30 s to start and connect).
	call := func(selector string, args, reply any) error {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		_, err := goClient.Call(ctx, selector, args, reply)
		return err
	}

	b := newBrowser(t)
	b.do(t, "loading "+pageURL, chromedp.Navigate(pageURL))
	waitFor[bool](t, b, "the page to connect", `document.querySelector("#status").dataset.state === "connected"`)

	t.Run("chat", func(t *testing.T) {
		const mine, theirs = "hello from chromium", "hello from Go"
		b.do(t, "sending a chat message",
			typeInto("#chat-name", "ada"),
			typeInto("#chat-text", mine),
			chromedp.Click(chromedp.CSS("#chat-send")))
		waitFor[bool](t, b, "the page's message in the chat log", chatLogHas(mine))
		var history []demo.Message
		if err := call("chat:history", []any{}, &history); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(history, func(m demo.Message) bool { return m.User == "ada" && m.Text == mine }) {
			t.Errorf("the server's chat history %+v lacks the page's message", history)
		}
		if err := call("chat:send", []any{"go", theirs}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor[bool](t, b, "the Go client's message in the chat log", chatLogHas(theirs))
	})

	t.Run("kv", func(t *testing.T) {
		b.do(t, "setting a kv value",
			typeInto("#kv-key", "color"),
			typeInto("#kv-value", "blue sky"),
			chromedp.Click(chromedp.CSS("#kv-set")))
		waitFor[bool](t, b, "the page to report the set", `document.querySelector("#kv-result").textContent.startsWith("set color = ")`)
		var color string
		if err := call("kv:get", []any{"color"}, &color); err != nil || color != "blue sky" {
			t.Errorf("kv:get color from Go: %q, %v; want %q", color, err, "blue sky")
		}
		if err := call("kv:set", []any{"shape", "circle"}, nil); err != nil {
			t.Fatal(err)
		}
		b.do(t, "getting a kv value",
			typeInto("#kv-key", "shape"),
			chromedp.Click(chromedp.CSS("#kv-get")))
		waitFor[bool](t, b, "the value Go set", `document.querySelector("#kv-result").textContent.includes("circle")`)
	})

	t.Run("echo", func(t *testing.T) {
		const text = "echoed by Go"
		b.do(t, "echoing",
			typeInto("#echo-text", text),
			chromedp.Click(chromedp.CSS("#echo-send")))
		waitFor[bool](t, b, "the echo", `document.querySelector("#echo-result").textContent.includes(`+jsString(text)+`)`)
	})

	t.Run("callback", func(t *testing.T) {
		b.do(t, "asking for a callback", chromedp.Click(chromedp.CSS("#callback-button")))
		// check:callback succeeds only once the page has answered the
		// server's call of check:echo.
		srv.await(t, regexp.MustCompile(`call selector=check:callback code=ok `))
		waitFor[bool](t, b, "the callback's result", `document.querySelector("#callback-result").textContent.includes("check:callback returned")`)
	})

	if shown := run(t, b, "reading the error line", chromedp.Evaluate[string](`(e => e.hidden ? "" : e.textContent)(document.querySelector("#error"))`)); shown != "" {
		t.Errorf("the page shows an error: %s", shown)
	}
	shot := run(t, b, "taking a screenshot", chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	path := filepath.Join(t.TempDir(), "page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// typeInto replaces the text of the input of a CSS selector, typing it
// key by key.
func typeInto(selector, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(selector)+`).value = ""`), // chromedp.SetValue cannot set ""
		chromedp.SendKeys(chromedp.CSS(selector), text),
	)
}

// chatLogHas returns JavaScript that is true once the chat log has a
// message with text.
func chatLogHas(text string) string {
	return `[...document.querySelectorAll("#chat-log li")].some(li => li.textContent.includes(` + jsString(text) + `))`
}
