package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

// runsEnv names the file where a process child notes each of its runs:
// a line with its start time in nanoseconds and its name (nameEnv).
const (
	runsEnv = "QTALK_SERVICE_RUNS"
	nameEnv = "QTALK_SERVICE_NAME"
)

// runProcessChild runs the test binary as the child of a process service
// in role:
//   - "crash-hang-recover": the first run writes a long line and a short
//     one to stderr and exits with status 3, the second reads its stdin and never answers,
//     the later ones are workers;
//   - "exit": exits with status 3 at once;
//   - "term": a worker that notes "NAME term" in the runs file on
//     SIGTERM and exits with status 0;
//   - "stubborn": a worker that ignores SIGTERM.
func runProcessChild(role string) int {
	run := noteRun()
	switch role {
	case "crash-hang-recover":
		switch run {
		case 1:
			fmt.Fprintln(os.Stderr, strings.Repeat("x", 10000)) // logged cut to 4 KiB
			fmt.Fprintln(os.Stderr, "boom: the first run crashes")
			return 3
		case 2:
			io.Copy(io.Discard, os.Stdin)
			select {}
		}
	case "exit":
		return 3
	case "term":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		go func() {
			<-c
			appendRun(os.Getenv(nameEnv) + " term")
			os.Exit(0)
		}()
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	}
	return runWorker()
}

// noteRun notes a run in the runs file and returns its number.
func noteRun() int {
	return appendRun(strconv.FormatInt(time.Now().UnixNano(), 10) + " " + os.Getenv(nameEnv))
}

// appendRun appends line to the runs file and returns how many lines it
// has then.
func appendRun(line string) int {
	name := os.Getenv(runsEnv)
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return 0
	}
	f.WriteString(line + "\n")
	f.Close()
	data, _ := os.ReadFile(name)
	return bytes.Count(data, []byte("\n"))
}

// readRuns returns the lines of the runs file.
func readRuns(t *testing.T, name string) []string {
	data, err := os.ReadFile(name)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(data), " ", "_"))
}

// processEnv sets up the environment of the children of a test in role
// and returns the runs file.
func processEnv(t *testing.T, role string) string {
	runs := filepath.Join(t.TempDir(), "runs")
	t.Setenv(childEnv, role) // inherited by the children
	t.Setenv(runsEnv, runs)
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race child exits at once
	return runs
}

// A jsonLog keeps a server's log records as JSON objects, attributes
// included.
type jsonLog struct {
	t       *testing.T
	mu      sync.Mutex
	buf     bytes.Buffer     // guarded by mu
	recs    []map[string]any // guarded by mu
	changed chan struct{}    // guarded by mu; closed and replaced on each record
}

func newJSONLog(t *testing.T) (*jsonLog, *slog.Logger) {
	l := &jsonLog{t: t, changed: make(chan struct{})}
	return l, slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *jsonLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		return 0, err
	}
	l.recs = append(l.recs, rec)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(b), nil
}

// find returns the records with msg whose attributes include want.
func (l *jsonLog) find(msg string, want map[string]string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, rec := range l.recs {
		if rec["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range want {
			if !strings.Contains(fmt.Sprint(rec[k]), v) {
				ok = false
			}
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out
}

// wait waits until n records match msg and want, and returns them.
func (l *jsonLog) wait(t *testing.T, ctx context.Context, n int, msg string, want map[string]string) []map[string]any {
	t.Helper()
	for {
		l.mu.Lock()
		changed := l.changed
		l.mu.Unlock()
		if recs := l.find(msg, want); len(recs) >= n {
			return recs
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("waiting for %d log records %q %v: %v", n, msg, want, ctx.Err())
		}
	}
}

// startProcessServer starts a server for the config text, logging to the
// returned jsonLog.
func startProcessServer(t *testing.T, text string) (*service.Server, *jsonLog) {
	t.Helper()
	cfg, err := config.Parse([]byte(text), t.Name()+".toml")
	if err != nil {
		t.Fatal(err)
	}
	jl, logger := newJSONLog(t)
	srv, err := service.New(cfg, service.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return srv, jl
}

// longCtx bounds a wait that includes a hung child's ping timeout.
func longCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 6*testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// A process child that crashes is started again after a wait; one that
// hangs (no answer to qtalk:ping within ping_timeout) is stopped and
// started again; the third serves. Its stderr is logged under the
// service's id, and qtalk:services tells the restarts and the last exit.
//
// ping_timeout is the default: the clock of the first ping runs while a
// child starts, and with 2 s a child of this -race binary on a loaded
// machine was once stopped as hung before it could answer, a restart more
// than the test's three children.
func TestProcessCrashHangRecover(t *testing.T) {
	runs := processEnv(t, "crash-hang-recover")
	srv, jl := startProcessServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "50ms"
reconnect_max = "30s"
[services]
worker = { provider = "exec:'%s' -test.run=^$", ping_interval = "100ms" }
`, os.Args[0]))
	p := dial(t, addrOf(srv))
	ctx := longCtx(t)
	sub, err := service.Subscribe(ctx, p.Client(), "worker") // starts the pool
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	expectEvent(t, sub, "worker/close")
	expectEvent(t, sub, "worker/open") // the third run
	got := mustCall(t, p, "worker:hello", "gateway")
	if n := len(readRuns(t, runs)); n != 3 {
		t.Errorf("%d runs, want 3", n)
	}

	jl.wait(t, ctx, 1, "stderr", map[string]string{"type": "service", "id": "worker", "line": "boom: the first run crashes"})
	var lines []string
	for _, r := range jl.find("stderr", map[string]string{"id": "worker"}) {
		lines = append(lines, fmt.Sprint(r["line"]))
	}
	if len(lines) != 2 || lines[0] != strings.Repeat("x", 4096) {
		t.Errorf("stderr logged as %d lines, want the long one cut to 4096 bytes, then boom", len(lines))
	}
	exits := jl.wait(t, ctx, 2, "process exited", map[string]string{"id": "worker"})
	if e := fmt.Sprint(exits[0]["exit"]); e != "exit status 3" {
		t.Errorf("first exit %q, want exit status 3", e)
	}
	if e := fmt.Sprint(exits[1]["exit"]); !strings.HasPrefix(e, fmt.Sprintf("hung: no answer to qtalk:ping within %s (signal: terminated)", config.DefaultPingTimeout)) {
		t.Errorf("second exit %q, want hung", e)
	}

	var infos []service.ServiceInfo
	if _, err := p.Call(ctx, service.LabelServices, nil, &infos); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Process == nil {
		t.Fatalf("qtalk:services = %+v, want worker with its process", infos)
	}
	pi := infos[0].Process
	if pi.Restarts != 2 || !strings.HasPrefix(pi.Exit, "hung:") || !strings.HasSuffix(got, " "+strconv.Itoa(pi.PID)) {
		t.Errorf("process %+v, want 2 restarts, the hung exit, and the pid of %q", pi, got)
	}
}

// A child that exits at once is started again after waits that grow:
// calls meanwhile fail with unavailable instead of starting children in
// a loop.
func TestProcessBackoff(t *testing.T) {
	runs := processEnv(t, "exit")
	srv, jl := startProcessServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "50ms"
reconnect_max = "1m"
[services]
worker = { provider = "exec:'%s' -test.run=^$" }
`, os.Args[0]))
	p := dial(t, addrOf(srv))
	for range 5 {
		_, err := call(t, p, "worker:hello", "x")
		checkCode(t, "a call to a crashing child", err, rpc.CodeUnavailable)
	}
	// Wait for 5 runs: the waits between them are 50, 100, 200 and
	// 400 ms, each within ±20%.
	const n = 5
	jl.wait(t, longCtx(t), n, "process exited", map[string]string{"id": "worker", "exit": "exit status 3"})
	var starts []int64
	for _, l := range readRuns(t, runs) {
		ns, _, _ := strings.Cut(l, "_")
		v, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, v)
	}
	wait := 50 * time.Millisecond
	for i := 1; i < len(starts); i++ {
		gap := time.Duration(starts[i] - starts[i-1])
		if lo := wait * 8 / 10; gap < lo {
			t.Errorf("run %d started %v after run %d, want at least %v", i+1, gap, i, lo)
		}
		wait *= 2
	}
}

// A process service with start = "startup" starts with the server; Close
// stops the children in the reverse order of their starts, with SIGTERM,
// and kills one that is still there after stop_timeout.
func TestProcessStartupAndStop(t *testing.T) {
	runs := processEnv(t, "term")
	exe := os.Args[0]
	srv, jl := startProcessServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
a = { provider = "exec:env %[2]s=a '%[1]s' -test.run=^$", service = "worker" }
b = { provider = "exec:env %[2]s=b '%[1]s' -test.run=^$", service = "worker", start = "startup" }
c = { provider = "exec:env %[2]s=c %[3]s=stubborn '%[1]s' -test.run=^$", service = "worker", stop_timeout = "100ms" }
`, exe, nameEnv, childEnv))
	ctx := longCtx(t)
	jl.wait(t, ctx, 1, "process started", map[string]string{"id": "b"}) // no call needed
	p := dial(t, addrOf(srv))
	mustCall(t, p, "b:hello", "x")
	mustCall(t, p, "a:hello", "x") // started after b
	mustCall(t, p, "c:hello", "x")
	p.Close()
	if len(jl.find("process started", map[string]string{"id": "a"})) != 1 {
		t.Fatal("a did not start once")
	}
	srv.Close()
	var terms []string
	for _, l := range readRuns(t, runs) {
		if strings.HasSuffix(l, "_term") {
			terms = append(terms, l)
		}
	}
	if strings.Join(terms, " ") != "a_term b_term" {
		t.Errorf("children stopped as %q, want a then b (the reverse of b, a)", terms)
	}
	stopped := jl.find("process stopped", nil)
	var order []string
	for _, r := range stopped {
		order = append(order, fmt.Sprint(r["id"], ":", r["exit"]))
	}
	if want := "c:signal: killed a:exit status 0 b:exit status 0"; strings.Join(order, " ") != want {
		t.Errorf("stopped %q, want %q", order, want)
	}
}
