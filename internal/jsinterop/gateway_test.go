//go:build browser

package jsinterop

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"testing"

	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

// A Node client (node js/dist/interop/gateway-client.js ADDR MODULE)
// calls through a Go gateway to a Node upstream (node
// js/dist/bin/qtalk.js serve --upstream-fixtures): unary calls, streams
// both ways, raw bytes, and cancellation and deadlines crossing both hops.
func TestGatewayToTypeScript(t *testing.T) {
	upstream := startNode(t, true, "bin/qtalk.js", "serve", "--listen", "tcp://127.0.0.1:0", "--upstream-fixtures")
	upAddr := upstream.listening(t)

	// The gateway renames the modules: remote:echo reaches the
	// upstream's check:echo, remote-slow:wait its slow:wait.
	const module = "remote"
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"

[services]
%[1]s = { provider = %[2]q, service = "check" }
%[1]s-slow = { provider = %[2]q, service = "slow" }
`, module, upAddr)), "qtalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := service.New(cfg, service.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	gwAddr := "tcp://" + gw.Addrs()[0].String()

	out, status := runNode(t, "interop/gateway-client.js", gwAddr, module)
	if status != 0 {
		t.Errorf("gateway-client %s %s exited with status %d, want 0", gwAddr, module, status)
	}
	for _, name := range []string{"unary", "server-stream", "client-stream", "bytes", "cancel", "deadline"} {
		if !regexp.MustCompile(`(?m)^PASS ` + regexp.QuoteMeta(name) + `$`).MatchString(out) {
			t.Errorf("no PASS line for %s", name)
		}
	}
}
