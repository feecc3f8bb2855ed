//go:build browser

package jsinterop

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/check"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// The TypeScript server (node js/dist/bin/qtalk.js serve) passes every
// case of qtalk's interop check, over its stdio and over ws.
func TestGoChecksTypeScript(t *testing.T) {
	t.Run("stdio", func(t *testing.T) {
		runChecker(t, execAddress(t, nodePath, jsDist(t, "bin/qtalk.js"), "serve", "--listen", "stdio:"))
	})
	t.Run("ws", func(t *testing.T) {
		srv := startNode(t, true, "bin/qtalk.js", "serve", "--listen", "ws://127.0.0.1:0/qtalk")
		runChecker(t, srv.listening(t))
	})
}

// runChecker runs qtalk's Checker against addr, as qtalk check does, and
// checks that every case ran and passed.
func runChecker(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	k := new(check.Checker)
	p, err := talk.Dial(ctx, addr, talk.WithHandler(k.Handler()))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	results := map[string]check.Result{}
	for _, r := range k.Run(ctx, p.Client(), nil) {
		results[r.Name] = r
	}
	for _, name := range check.Names() {
		r, ok := results[name]
		switch {
		case !ok:
			t.Errorf("%s: did not run", name)
		case r.Err != nil:
			t.Errorf("%s: FAIL after %v: %v", name, r.Elapsed, r.Err)
		}
	}
}

// execAddress returns the exec: address that runs a command of words,
// which need no quoting.
func execAddress(t *testing.T, words ...string) string {
	t.Helper()
	for _, w := range words {
		if w == "" || strings.ContainsAny(w, " \t'\"\\!$") {
			t.Fatalf("%q cannot be a word of an exec: address without quoting", w)
		}
	}
	return "exec:" + strings.Join(words, " ")
}

// The TypeScript checker (node js/dist/bin/qtalk.js check ADDR) passes
// every case against the Go demo server of qtalk serve, over ws and tcp,
// and prints its results as qtalk check does.
func TestTypeScriptChecksGo(t *testing.T) {
	for _, addr := range []string{"ws://127.0.0.1:0/qtalk", "tcp://127.0.0.1:0"} {
		t.Run(strings.Split(addr, ":")[0], func(t *testing.T) {
			ln, target := listen(t, addr)
			serveDemo(t, ln)
			out, status := runNode(t, "bin/qtalk.js", "check", target)
			if status != 0 {
				t.Errorf("check %s exited with status %d, want 0", target, status)
			}
			names := check.Names()
			wants := []string{`^checking ` + regexp.QuoteMeta(target) + `$`}
			for _, name := range names {
				wants = append(wants, `^PASS  `+regexp.QuoteMeta(name)+` +\S+$`)
			}
			wants = append(wants, `^`+regexp.QuoteMeta(fmt.Sprintf("%d passed, 0 failed", len(names)))+`$`)
			for _, want := range wants {
				if !regexp.MustCompile(`(?m)` + want).MatchString(out) {
					t.Errorf("the output has no line matching %q", want)
				}
			}
		})
	}
}

// A TypeScript peer answers qtalk:ping itself: Go's Peer.Ping (what qtalk
// ping calls) gets its payloads back, of every size up to the frame limit.
func TestGoPingsTypeScript(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	p, err := talk.Dial(ctx, execAddress(t, nodePath, jsDist(t, "bin/qtalk.js"), "serve", "--listen", "stdio:"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, size := range []int{0, 1, 1000, 1 << 20} {
		if rtt, err := p.Ping(ctx, size); err != nil || rtt <= 0 {
			t.Errorf("Ping(%d) = %v, %v; want a round trip", size, rtt, err)
		}
	}
}

// A Go client with compression on (spec/rpc.md, section 13) asks the
// TypeScript server, which does not implement it, in every call header:
// the server answers plainly, so the client never compresses, and calls
// of large compressible values work as without it.
//
// The dial (which starts node) and each call have their own guard: under
// -race on a loaded machine the whole took from 2.6 to 18 s, and once more
// than the 30 s that bounded all four together.
func TestGoCompressingClientCallsTypeScript(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	p, err := talk.Dial(ctx, execAddress(t, nodePath, jsDist(t, "bin/qtalk.js"), "serve", "--listen", "stdio:"),
		talk.WithClientOptions(rpc.WithCompression(0)))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	value := strings.Repeat("compressible ", 80<<10) // 1 MiB
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		var echo string
		start := time.Now()
		_, err := p.Client().Call(ctx, "echo:echo", value, &echo)
		cancel()
		if err != nil || echo != value {
			t.Fatalf("echo %d of %d bytes: %d bytes back after %v, %v", i+1, len(value), len(echo), time.Since(start), err)
		}
	}
}
