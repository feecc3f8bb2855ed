package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// bin is the qtalk binary under test, built by TestMain.
var bin string

// testTimeout bounds every command and every wait, so that a hang fails
// the test instead of the run.
const testTimeout = 20 * time.Second

func TestMain(m *testing.M) {
	code := buildAndRun(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "qtalk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "qtalk")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building qtalk: %v\n", err)
		return 1
	}
	return m.Run()
}

// command returns a command that runs the binary with args, killed if it
// outlives ctx. A -race binary exits without its usual one-second pause.
func command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	cmd.WaitDelay = time.Second
	return cmd
}

// A result is what a finished command printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit status %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// qtalk runs the binary with args and stdin (none if empty) to its end.
func qtalk(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := command(ctx, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("qtalk %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("qtalk %q did not finish within %s", args, testTimeout)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// want fails the test unless r has the exit status code, and reports r.
func (r result) want(t *testing.T, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit status %d, want %d\n%s", what, r.code, code, r)
	}
}

// A server is a running "qtalk serve" and the lines it logged.
type server struct {
	cmd *exec.Cmd
	tcp string // the addresses it listens on, by scheme
	ws  string

	mu      sync.Mutex // guards lines and changed
	lines   []string
	changed chan struct{} // closed and replaced when a line is added

	readDone chan struct{} // closed once stderr is read to its end
	stopped  bool
	code     int
}

// listeningText finds the id of a listener and its address in a log
// line.
var listeningText = regexp.MustCompile(`INFO listener/(\S+)\] listening addr=(\S+)$`)

// listenedAddr returns the address a log line says is listened on. The
// built-in server logs it in full, tcp://127.0.0.1:4242; a server with a
// config logs the listen address of its config as the id and the host
// and port it got as the address, which go together here.
func listenedAddr(line string) string {
	if strings.HasPrefix(line, "{") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
			return rec.Addr
		}
		return ""
	}
	m := listeningText.FindStringSubmatch(line)
	switch {
	case m == nil:
		return ""
	case strings.Contains(m[2], "://"):
		return m[2]
	}
	u, err := url.Parse(m[1])
	if err != nil {
		return ""
	}
	u.Host = m[2]
	return u.String()
}

// serve starts "qtalk serve" on TCP and WebSocket addresses with ports
// the system chooses, plus extra flags, and waits until it listens. The
// server is stopped and reaped at the end of the test, which fails if it
// did not exit with status 0.
func serve(t *testing.T, extra ...string) *server {
	t.Helper()
	return serveArgs(t, append([]string{"serve", "--listen", "tcp://127.0.0.1:0", "--listen", "ws://127.0.0.1:0/qtalk"}, extra...)...)
}

// serveArgs starts the binary with args, a serve command that listens on
// a tcp and a ws address, like serve.
func serveArgs(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{cmd: command(context.Background(), args...), changed: make(chan struct{}), readDone: make(chan struct{})}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if code := s.stop(t); code != 0 {
			t.Errorf("qtalk serve exited with status %d\n%s", code, s.log())
		}
	})
	go func() {
		defer close(s.readDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
		}
	}()
	for _, l := range s.waitLines(t, 2, func(l string) bool { return listenedAddr(l) != "" }) {
		switch a := listenedAddr(l); {
		case strings.HasPrefix(a, "tcp:"):
			s.tcp = a
		case strings.HasPrefix(a, "ws:"):
			s.ws = a
		}
	}
	if s.tcp == "" || s.ws == "" {
		t.Fatalf("qtalk serve did not log a tcp and a ws address\n%s", s.log())
	}
	return s
}

// waitLines waits until n lines logged match and returns them.
func (s *server) waitLines(t *testing.T, n int, match func(string) bool) []string {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		s.mu.Lock()
		var found []string
		for _, l := range s.lines {
			if match(l) {
				found = append(found, l)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if len(found) >= n {
			return found
		}
		select {
		case <-changed:
		case <-s.readDone:
			t.Fatalf("qtalk serve exited before logging %d matching lines\n%s", n, s.log())
		case <-timeout:
			t.Fatalf("qtalk serve did not log %d matching lines within %s\n%s", n, testTimeout, s.log())
		}
	}
}

// waitLog waits for a logged line that matches re and returns it.
func (s *server) waitLog(t *testing.T, re string) string {
	t.Helper()
	r := regexp.MustCompile(re)
	return s.waitLines(t, 1, r.MatchString)[0]
}

// log returns what the server logged so far.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// stop sends SIGTERM, waits for the server to exit (killing it if it
// does not within testTimeout) and returns its exit status. Later calls
// return the same.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	if s.stopped {
		return s.code
	}
	s.stopped = true
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.readDone:
	case <-time.After(testTimeout):
		t.Errorf("qtalk serve did not exit within %s of SIGTERM: killing it", testTimeout)
		s.cmd.Process.Kill()
		<-s.readDone
	}
	s.cmd.Wait()
	s.code = s.cmd.ProcessState.ExitCode()
	return s.code
}

// A stream is a command whose stdout is read line by line as it runs.
type stream struct {
	cmd    *exec.Cmd
	lines  *bufio.Scanner
	stderr syncBuffer
}

// syncBuffer is a bytes.Buffer that exec's copying goroutine may write
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startStream starts the binary with args and reads its stdout as it
// comes. The command is killed and reaped at the end of the test if still
// running.
func startStream(t *testing.T, args ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	s := &stream{cmd: command(ctx, args...)}
	s.cmd.Stderr = &s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.lines = bufio.NewScanner(out)
	t.Cleanup(func() {
		cancel() // kills the command if it is still running
		io.Copy(io.Discard, out)
		s.cmd.Wait()
	})
	return s
}

// next returns the next line of stdout.
func (s *stream) next(t *testing.T) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		if s.lines.Scan() {
			line <- s.lines.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			t.Fatalf("qtalk %q: stdout ended; stderr:\n%s", s.cmd.Args[1:], s.stderr.String())
		}
		return l
	case <-time.After(testTimeout):
		t.Fatalf("qtalk %q printed no line within %s", s.cmd.Args[1:], testTimeout)
	}
	return ""
}

// wait reads the rest of stdout, waits for the command to exit and
// returns the rest and its exit status.
func (s *stream) wait(t *testing.T) (rest string, code int) {
	t.Helper()
	var b strings.Builder
	for s.lines.Scan() {
		b.WriteString(s.lines.Text() + "\n")
	}
	s.cmd.Wait()
	return b.String(), s.cmd.ProcessState.ExitCode()
}
