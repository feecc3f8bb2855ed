package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

// reloadConfig is a gateway config with a local chat, an upstream guild,
// and what extra adds.
func reloadConfig(listen, upAddr, watch, extra string) string {
	return fmt.Sprintf(`
listen = %q
watch_interval = %q

[services]
chat  = { provider = "local", module = "example.net/chat" }
guild = { provider = "tcp://%s", service = "guild-service" }
%s
`, listen, watch, upAddr, extra)
}

// echo sends v on a bidirectional stream and checks it comes back.
func echo(t *testing.T, resp *rpc.Response, v int) {
	t.Helper()
	if err := resp.Send(v); err != nil {
		t.Fatalf("send %d: %v", v, err)
	}
	var got int
	if err := resp.Receive(&got); err != nil || got != v {
		t.Fatalf("echo %d: %d, %v", v, got, err)
	}
}

// Reloads, from the file changing and from SIGHUP, add, change and
// remove services, while the streams of the services they leave alone,
// local and upstream, keep going; an invalid file is rejected and the
// config in effect stays.
func TestReload(t *testing.T) {
	up, _ := startServer(t, upstreamConfig("127.0.0.1:0"))
	upAddr := up.Addrs()[0].String()
	dir := t.TempDir()
	path := filepath.Join(dir, "qtalk.toml")
	write := func(text string) {
		t.Helper()
		// Write a new file and rename it over the old one, so that the
		// watcher never reads half a file.
		tmp := filepath.Join(dir, "next.toml")
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(reloadConfig("tcp://127.0.0.1:0", upAddr, "5ms", ""))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := newLogRecorder(t)
	srv, err := service.New(cfg, service.WithLogger(slog.New(logs)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.WatchConfig(ctx, path)
	listen := addrOf(srv)
	p := dial(t, listen)

	// Streams in flight through the reloads: one local, one upstream.
	var streams []*rpc.Response
	for _, sel := range []string{"chat:echo", "guild:echo"} {
		resp, err := p.Call(testCtx(t), sel, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		echo(t, resp, 1)
		streams = append(streams, resp)
	}
	// The same listen address, now fixed, keeps the listener.
	listenFixed := "tcp://" + srv.Addrs()[0].String()

	write(reloadConfig(listenFixed, upAddr, "5ms", `extra = { provider = "local", module = "example.net/chat" }`))
	logs.waitCount(t, "config reloaded", 1)
	if got := mustCall(t, p, "extra:whoami", nil); got != "extra p= " {
		t.Errorf("extra:whoami = %q", got)
	}
	for i, resp := range streams {
		echo(t, resp, 10+i)
	}

	write("listen = 42\n")
	logs.waitCount(t, "config rejected: keeping the config in effect", 1)
	mustCall(t, p, "extra:whoami", nil)

	// This one turns polling off: the next change needs SIGHUP.
	write(reloadConfig(listenFixed, upAddr, "0s", `extra = { provider = "local", module = "example.net/chat", options = { greeting = "changed" } }`))
	logs.waitCount(t, "config reloaded", 2)
	if got := mustCall(t, p, "extra:whoami", nil); got != "extra p= changed" {
		t.Errorf("extra:whoami after its options changed = %q", got)
	}

	write(reloadConfig(listenFixed, upAddr, "0s", ""))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logs.waitCount(t, "config reloaded", 3)
	_, err = call(t, p, "extra:whoami", nil)
	checkCode(t, "a call to a removed service", err, rpc.CodeNotFound)

	for i, resp := range streams {
		echo(t, resp, 20+i)
		resp.CloseSend()
		if err := resp.Receive(nil); err != io.EOF {
			t.Errorf("stream %d after the reloads: %v, want io.EOF", i, err)
		}
	}
	if n := logs.count("upstream connected"); n != 1 {
		t.Errorf("the upstream was connected %d times, want once: reloads kept the session", n)
	}
}

// A config Reload cannot apply changes nothing.
func TestReloadRejected(t *testing.T) {
	srv, _ := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	bad, err := config.Parse([]byte(`
listen = "tcp://127.0.0.1:0"
[services]
chat = { provider = "local", module = "example.net/broken" }
`), "bad.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Reload(bad); !errors.Is(err, service.ErrModuleFailed) {
		t.Errorf("Reload with a broken module: %v, want ErrModuleFailed", err)
	}
	if got := mustCall(t, p, "guild:whoami", nil); got != "guild p= " {
		t.Errorf("after the rejected reload: %q", got)
	}
	var labels []string
	p.Call(testCtx(t), service.LabelLabels, nil, &labels)
	if !slices.Contains(labels, "chat:send") {
		t.Errorf("labels after the rejected reload: %q", labels)
	}
}

// Serve serves until its context ends.
func TestServe(t *testing.T) {
	cfg, err := config.Parse([]byte(localConfig), "")
	if err != nil {
		t.Fatal(err)
	}
	logs := newLogRecorder(t)
	srv, err := service.New(cfg, service.WithLogger(slog.New(logs)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	logs.waitCount(t, "listening", 1)
	p := dial(t, addrOf(srv))
	mustCall(t, p, "chat:whoami", nil)
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve after its context ended: %v", err)
	}
	if err := srv.Start(context.Background()); !errors.Is(err, service.ErrServerClosed) {
		t.Errorf("Start after Serve: %v, want ErrServerClosed", err)
	}
}

// Shutdown refuses new calls and waits for those in flight.
func TestShutdown(t *testing.T) {
	srv, logs := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	resp, err := p.Call(testCtx(t), "chat:echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	echo(t, resp, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(testCtx(t)) }()
	logs.waitCount(t, "shutting down", 1)
	_, err = call(t, p, "chat:whoami", nil)
	checkCode(t, "a call during Shutdown", err, rpc.CodeUnavailable)
	echo(t, resp, 2)
	resp.CloseSend()
	// The end of the stream, or of the session closed right after it.
	if err := resp.Receive(nil); err != io.EOF && rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("the stream in flight: %v, want its end", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// A reload while Shutdown drains the calls in flight is refused: it would
// listen again.
func TestReloadDuringShutdown(t *testing.T) {
	srv, logs := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	resp, err := p.Call(testCtx(t), "chat:echo", nil, nil) // holds the drain
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(testCtx(t)) }()
	logs.waitCount(t, "shutting down", 1)
	if err := srv.Reload(srv.Config()); !errors.Is(err, service.ErrServerClosed) {
		t.Errorf("Reload during Shutdown: %v, want ErrServerClosed", err)
	}
	if addrs := srv.Addrs(); len(addrs) > 0 {
		t.Errorf("listening on %v during Shutdown", addrs)
	}
	resp.Close()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// Two Shutdowns at once both return when the last call ends.
func TestConcurrentShutdowns(t *testing.T) {
	srv, logs := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	resp, err := p.Call(testCtx(t), "chat:echo", nil, nil) // holds the drain
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- srv.Shutdown(testCtx(t)) }()
	}
	logs.waitCount(t, "shutting down", 2)
	resp.Close()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
}
