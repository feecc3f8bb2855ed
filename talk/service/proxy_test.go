package service_test

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/service"
)

// upstreamConfig serves the chat module as guild-service on addr.
func upstreamConfig(addr string) string {
	return fmt.Sprintf(`
listen = "tcp://%s"

[services]
guild-service = { provider = "local", module = "example.net/chat", options = { greeting = "upstream" } }
`, addr)
}

// gatewayConfig forwards guild to guild-service at addr.
func gatewayConfig(addr, extra string) string {
	return fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"

[limits]
reconnect_min = "10ms"
reconnect_max = "50ms"

[services]
guild = { provider = "tcp://%s", service = "guild-service", host = "example.net", breaker = { failures = 0 } }
%s
`, addr, extra)
}

// A client calls through a gateway: unary calls, streams both ways, raw
// channels, and labels naming the upstream's host.
func TestGateway(t *testing.T) {
	up, _ := startServer(t, upstreamConfig("127.0.0.1:0"))
	upAddr := up.Addrs()[0].String()
	gw, _ := startServer(t, gatewayConfig(upAddr, ""))
	p := dial(t, addrOf(gw))

	for sel, want := range map[string]string{
		"guild:whoami?p=1":                         "guild-service p=1 upstream",
		"example.net/guild-service:whoami":         "guild-service p= upstream",
		upAddr + "/guild-service:whoami?p=%26":     "guild-service p=& upstream",
		"127.0.0.1/guild-service:whoami?p=by%20ip": "guild-service p=by ip upstream",
	} {
		if got := mustCall(t, p, sel, nil); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	for sel, code := range map[string]rpc.Code{
		"guild:nope":                     rpc.CodeNotFound,
		"evil.example.com/guild:whoami":  rpc.CodePermissionDenied,
		"127.0.0.2:80/guild:whoami":      rpc.CodePermissionDenied,
		"example.net/other:whoami":       rpc.CodeNotFound,
		"example.net/guild-service:nope": rpc.CodeNotFound,
	} {
		_, err := call(t, p, sel, nil)
		checkCode(t, sel, err, code)
	}

	// A bidirectional stream.
	resp, err := p.Call(testCtx(t), "guild:echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		resp.Send(i)
		var got int
		if err := resp.Receive(&got); err != nil || got != i {
			t.Fatalf("echo %d: %d, %v", i, got, err)
		}
	}
	resp.CloseSend()
	if err := resp.Receive(nil); err != io.EOF {
		t.Errorf("after CloseSend: %v, want io.EOF", err)
	}
	resp.Close()

	// A raw channel.
	conn, err := p.OpenChannel(testCtx(t), "guild:upper", nil)
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Repeat("through the gateway ", 20000)
	go func() {
		conn.Write([]byte(data))
		conn.CloseWrite()
	}()
	if got, err := io.ReadAll(conn); err != nil || string(got) != strings.ToUpper(data) {
		t.Errorf("guild:upper: %d bytes, %v", len(got), err)
	}
	conn.Close()

	var labels []string
	if _, err := p.Call(testCtx(t), service.LabelLabels, nil, &labels); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(labels, "guild:whoami") || slices.Contains(labels, "guild-service:whoami") {
		t.Errorf("qtalk:labels through the gateway = %q", labels)
	}
}

// Events cross the gateway under the local name; when the upstream goes
// away the service closes and calls fail as unavailable, and when it
// comes back, on the same address, the service opens and calls go
// through again, without restarting anything.
func TestUpstreamRestart(t *testing.T) {
	up, _ := startServer(t, upstreamConfig("127.0.0.1:0"))
	upAddr := up.Addrs()[0].String()
	gw, _ := startServer(t, gatewayConfig(upAddr, ""))
	p := dial(t, addrOf(gw))
	sub := subscribe(t, p, "guild")
	expectEvent(t, sub, "guild/close") // not connected yet: the subscription connects
	expectEvent(t, sub, "guild/open")

	mustCall(t, p, "guild:send", "one")
	if ev := expectEvent(t, sub, "guild/message"); ev.Param != "one" {
		t.Errorf("relayed event param %v", ev.Param)
	}

	// A stream in flight when the upstream dies fails as unavailable.
	resp, err := p.Call(testCtx(t), "guild:echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	up.Close()
	expectEvent(t, sub, "guild/close")
	if err := resp.Receive(nil); rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("stream after the upstream died: %v, want unavailable", err)
	}
	_, err = call(t, p, "guild:whoami", nil)
	checkCode(t, "a call while the upstream is down", err, rpc.CodeUnavailable)

	startServer(t, upstreamConfig(upAddr))
	expectEvent(t, sub, "guild/open")
	if got := mustCall(t, p, "guild:whoami", nil); got != "guild-service p= upstream" {
		t.Errorf("after the restart: %q", got)
	}
}

// The breaker opens after its threshold of failures in a row; while it
// is open calls do not reach the upstream, even if it is back; after the
// cooldown one call probes, and its success closes the breaker.
func TestBreaker(t *testing.T) {
	upAddr := freePort(t)
	gw, logs := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "10ms"
reconnect_max = "20ms"
[services]
guild = { provider = "tcp://%s", service = "guild-service", breaker = { failures = 2, cooldown = "1m" } }
`, upAddr))
	clock := newFakeClock()
	service.SetClock(gw, clock.now)
	p := dial(t, addrOf(gw))

	for i := range 2 {
		_, err := call(t, p, "guild:whoami", nil)
		checkCode(t, fmt.Sprint("call ", i, " to a dead upstream"), err, rpc.CodeUnavailable)
	}
	logs.waitCount(t, "circuit open", 1)

	startServer(t, upstreamConfig(upAddr))
	before := chatCalls.Load()
	_, err := call(t, p, "guild:whoami", nil)
	checkCode(t, "a call while the breaker is open", err, rpc.CodeUnavailable)
	if chatCalls.Load() != before {
		t.Error("a call went upstream while the breaker was open")
	}

	clock.advance(time.Minute)
	mustCall(t, p, "guild:whoami", nil) // the probe
	logs.waitCount(t, "circuit closed", 1)
	mustCall(t, p, "guild:whoami", nil)
}

// A probe that fails opens the breaker for another cooldown, from the
// probe's failure: calls are refused without reaching the upstream, even
// once it is back, until the next probe.
func TestBreakerFailedProbe(t *testing.T) {
	upAddr := freePort(t)
	gw, logs := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "10ms"
reconnect_max = "20ms"
[services]
guild = { provider = "tcp://%s", service = "guild-service", breaker = { failures = 2, cooldown = "1m" } }
`, upAddr))
	clock := newFakeClock()
	service.SetClock(gw, clock.now)
	p := dial(t, addrOf(gw))
	for i := range 2 {
		_, err := call(t, p, "guild:whoami", nil)
		checkCode(t, fmt.Sprint("call ", i, " to a dead upstream"), err, rpc.CodeUnavailable)
	}
	logs.waitCount(t, "circuit open", 1)

	clock.advance(time.Minute)
	_, err := call(t, p, "guild:whoami", nil) // the probe: the upstream is still down
	checkCode(t, "the probe to a dead upstream", err, rpc.CodeUnavailable)

	startServer(t, upstreamConfig(upAddr))
	clock.advance(time.Minute - time.Second) // two cooldowns since the breaker opened, not one since the probe
	before := chatCalls.Load()
	for i := range 3 {
		_, err := call(t, p, "guild:whoami", nil)
		checkCode(t, fmt.Sprint("call ", i, " after the failed probe"), err, rpc.CodeUnavailable)
	}
	if n := chatCalls.Load() - before; n != 0 {
		t.Errorf("%d calls went upstream while the breaker was open again", n)
	}
	if n := logs.count("circuit closed"); n != 0 {
		t.Errorf("the breaker closed %d times, want none before a probe succeeds", n)
	}

	clock.advance(time.Second)
	mustCall(t, p, "guild:whoami", nil) // the next probe
	logs.waitCount(t, "circuit closed", 1)
	mustCall(t, p, "guild:whoami", nil)
	if n := logs.count("circuit open"); n != 1 {
		t.Errorf("the breaker opened %d times, want once: a failed probe keeps it open", n)
	}
}

// Calls that cannot reach their upstream go to the fallback; the retries
// of idempotent calls (by config or metadata) hide an upstream that is
// unavailable now and then, and other calls are not tried twice.
func TestFallbackAndRetries(t *testing.T) {
	up, _ := startServer(t, `
listen = "tcp://127.0.0.1:0"
[services]
flaky = { provider = "local", module = "example.net/flaky" }
`)
	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "10ms"
[services]
backup = { provider = "local", module = "example.net/chat" }
guild  = { provider = "tcp://%s", fallback = "backup", breaker = { failures = 0 } }
flaky  = { provider = "%s", retries = 1, idempotent = ["get"], breaker = { failures = 0 } }
`, freePort(t), addrOf(up)))
	p := dial(t, addrOf(gw))

	if got := mustCall(t, p, "guild:whoami?p=fb", nil); got != "backup p=fb " {
		t.Errorf("guild:whoami with its upstream down = %q, want the fallback's answer", got)
	}

	var n int
	if _, err := p.Call(testCtx(t), "flaky:get", nil, &n); err != nil || n != 2 {
		t.Errorf("flaky:get (idempotent by config) = %d, %v; want 2 after a retry", n, err)
	}
	_, err := p.Call(testCtx(t), "flaky:put", nil, &n)
	checkCode(t, "flaky:put (not idempotent)", err, rpc.CodeUnavailable)
	md := rpc.WithMetadata(rpc.Metadata{service.MetadataIdempotent: "1"})
	for _, want := range []int{2, 4} { // 4: the upstream failed 3 first
		if _, err := p.Call(testCtx(t), "flaky:put", nil, &n, md); err != nil || n != want {
			t.Errorf("flaky:put marked idempotent = %d, %v; want %d", n, err, want)
		}
	}
}

// A call crosses two gateways as one: A forwards guild to B, which
// forwards it to C as guild-service; events come back the same way.
func TestChain(t *testing.T) {
	c, _ := startServer(t, upstreamConfig("127.0.0.1:0"))
	b, _ := startServer(t, gatewayConfig(c.Addrs()[0].String(), ""))
	a, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
guild = { provider = "%s" }
`, addrOf(b)))
	p := dial(t, addrOf(a))
	sub := subscribe(t, p, "guild")
	expectEvent(t, sub, "guild/close")
	expectEvent(t, sub, "guild/open")
	if got := mustCall(t, p, "guild:whoami?p=2", nil); got != "guild-service p=2 upstream" {
		t.Errorf("through two gateways: %q", got)
	}
	mustCall(t, p, "guild:send", "far")
	expectEvent(t, sub, "guild/message")

	conn, err := p.OpenChannel(testCtx(t), "guild:upper", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("chain"))
	conn.CloseWrite()
	if got, err := io.ReadAll(conn); err != nil || string(got) != "CHAIN" {
		t.Errorf("raw through two gateways: %q, %v", got, err)
	}
	conn.Close()
}

// An exec provider is a child process, which counts as open while it is
// connected.
func TestExecProvider(t *testing.T) {
	t.Setenv(childEnv, "worker")            // inherited by the child
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race child exits at once
	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
worker = { provider = "exec:'%s' -test.run=^$" }
`, os.Args[0]))
	p := dial(t, addrOf(gw))
	sub := subscribe(t, p, "worker")
	expectEvent(t, sub, "worker/close")
	expectEvent(t, sub, "worker/open")
	got := mustCall(t, p, "worker:hello", "gateway")
	if !strings.HasPrefix(got, "hello gateway from pid ") || strings.HasSuffix(got, fmt.Sprint(" ", os.Getpid())) {
		t.Errorf("worker:hello = %q, want an answer from the child", got)
	}
	conn, err := p.OpenChannel(testCtx(t), "worker:upper", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("child"))
	conn.CloseWrite()
	if data, err := io.ReadAll(conn); err != nil || string(data) != "CHILD" {
		t.Errorf("worker:upper: %q, %v", data, err)
	}
	conn.Close()
	var labels []string
	if _, err := p.Call(testCtx(t), service.LabelLabels, nil, &labels); err != nil || !slices.Contains(labels, "worker:*") {
		t.Errorf("qtalk:labels = %q, %v; want worker:* for a worker that cannot list its labels", labels, err)
	}
}

// Calls over max_calls are refused, and so are sessions over
// max_sessions.
func TestLimits(t *testing.T) {
	srv, _ := startServer(t, `
listen = "tcp://127.0.0.1:0"
[limits]
max_calls = 1
max_sessions = 1
[services]
chat = { provider = "local", module = "example.net/chat" }
`)
	p := dial(t, addrOf(srv))
	resp, err := p.Call(testCtx(t), "chat:echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = call(t, p, "chat:whoami", nil)
	checkCode(t, "a call over max_calls", err, rpc.CodeResourceExhausted)
	resp.Close()

	second, err := talk.Dial(testCtx(t), addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.Wait(); err == nil {
		t.Error("a session over max_sessions was served")
	}
}

// Subscriptions live as long as their subscribers: they do not use up
// max_calls.
func TestSubscriptionsAreNotCalls(t *testing.T) {
	srv, _ := startServer(t, `
listen = "tcp://127.0.0.1:0"
[limits]
max_calls = 1
[services]
chat = { provider = "local", module = "example.net/chat" }
`)
	p := dial(t, addrOf(srv))
	subscribe(t, p, "chat")
	subscribe(t, p, "*")
	if got := mustCall(t, p, "chat:whoami", nil); got == "" {
		t.Error("empty reply")
	}
}

// A forwarded raw channel that the upstream half-closed still ends at the
// service timeout, while the client keeps its side open.
func TestForwardedHalfCloseEndsAtTimeout(t *testing.T) {
	up, _ := startServer(t, `
listen = "tcp://127.0.0.1:0"
[services]
chat = { provider = "local", module = "example.net/chat" }
`)
	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
chat = { provider = %q, timeout = "200ms" }
`, addrOf(up)))
	p := dial(t, addrOf(gw))
	conn, err := p.OpenChannel(testCtx(t), "chat:quiet", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.ReadAll(conn); err != nil { // the upstream's half-close
		t.Fatal(err)
	}
	// The forward ends at the timeout, so the drain need not wait for
	// this client, which never ends its side.
	if err := gw.Shutdown(testCtx(t)); err != nil {
		t.Errorf("the forwarded call outlived its timeout: Shutdown: %v", err)
	}
}

// fakeClock is a clock for the breakers that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1e9, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// A service's timeout bounds its calls, streams included, and counts as
// a failure of the upstream.
func TestServiceTimeout(t *testing.T) {
	up, _ := startServer(t, upstreamConfig("127.0.0.1:0"))
	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
guild = { provider = "tcp://%s", service = "guild-service", timeout = "100ms" }
`, up.Addrs()[0].String()))
	p := dial(t, addrOf(gw))
	resp, err := p.Call(testCtx(t), "guild:echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	start := time.Now()
	err = resp.Receive(nil) // the upstream echoes nothing: wait for the timeout
	checkCode(t, "a stream past the service's timeout", err, rpc.CodeDeadlineExceeded)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	mustCall(t, p, "guild:whoami", nil) // the next call has a timeout of its own
}
