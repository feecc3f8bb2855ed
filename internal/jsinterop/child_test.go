//go:build browser

package jsinterop

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A child is a process of a test, such as a Node server, whose output
// lines the test waits for: the address it listens on, the sessions it saw
// end, the steps it ran.
type child struct {
	name    string
	cmd     *exec.Cmd
	spawned time.Time // just before the process was started

	stderr *lineLog
	stdout *lineLog // nil unless the test reads the child's stdout

	exited  chan struct{} // closed once the process has exited
	waitErr error         // cmd.Wait's error, set before exited is closed
}

// A lineLog holds the lines a child wrote to one of its outputs so far.
type lineLog struct {
	name string // "stderr" or "stdout"

	mu     sync.Mutex
	lines  []string
	first  time.Time     // when the first line was read
	ended  bool          // the output is closed
	grew   chan struct{} // closed, and replaced, when lines grow or the output ends
	cursor int           // the first line next has not returned
}

func newLineLog(name string) *lineLog { return &lineLog{name: name, grew: make(chan struct{})} }

// listeningLine is the line a child logs for each listener it opens: the
// Node fixtures print "listening addr=ADDR", qtalk serve adds its bracket
// in front.
var listeningLine = regexp.MustCompile(`listening .*addr=(\S+)`)

// startedLine is the first line of a node child's stderr, from the
// preloaded testdata/started.cjs.
var startedLine = regexp.MustCompile(`^node started pid=\d+ uptime_ms=(\d+) unix_ms=(\d+)$`)

// startNode starts node with args, the first being a file of js/dist (see
// startChild), and waits for node's start: the line of its preload, within
// the guard of its own, so that a node slow to start under load does not
// take the guard of what the test waits for next.
func startNode(t *testing.T, graceful bool, script string, args ...string) *child {
	t.Helper()
	c := startChild(t, graceful, false, nodePath, nodeArgs(t, script, args)...)
	c.awaitStart(t)
	return c
}

// nodeArgs are the arguments of node that run script of js/dist with args,
// after the preload that logs node's start.
func nodeArgs(t *testing.T, script string, args []string) []string {
	t.Helper()
	return append([]string{"--require", filepath.Join(repoRoot, "internal", "jsinterop", "testdata", "started.cjs"), jsDist(t, script)}, args...)
}

// startChild starts a process in the repository's root and stops it when
// the test ends: a graceful child gets SIGTERM and must exit with status
// 0, others are killed. Its stderr, and its stdout if the test reads it
// (readStdout), are logged if the test failed.
func startChild(t *testing.T, graceful, readStdout bool, path string, args ...string) *child {
	t.Helper()
	c := &child{
		name:   strings.Join(append([]string{path}, args...), " "),
		cmd:    exec.Command(path, args...),
		stderr: newLineLog("stderr"),
		exited: make(chan struct{}),
	}
	c.cmd.Dir = repoRoot
	pipes := []*lineLog{c.stderr}
	readers := []io.Reader{}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	readers = append(readers, stderr)
	if readStdout {
		c.stdout = newLineLog("stdout")
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		pipes, readers = append(pipes, c.stdout), append(readers, stdout)
	}
	c.spawned = time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", c.name, err)
	}
	var reading sync.WaitGroup
	for i, l := range pipes {
		reading.Go(func() {
			s := bufio.NewScanner(readers[i])
			s.Buffer(nil, 1<<20)
			for s.Scan() {
				l.add(s.Text(), false)
			}
			l.add("", true)
		})
	}
	go func() {
		reading.Wait() // Wait closes the pipes: read them all first
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.stop(t, graceful)
		if t.Failed() {
			for _, l := range pipes {
				t.Logf("%s of %s:\n%s", l.name, c.name, l.text())
			}
		}
	})
	return c
}

// add appends a line to the log, or notes the output's end.
func (l *lineLog) add(line string, end bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if end {
		l.ended = true
	} else {
		if len(l.lines) == 0 {
			l.first = time.Now()
		}
		l.lines = append(l.lines, line)
	}
	close(l.grew)
	l.grew = make(chan struct{})
}

// text returns the lines so far.
func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// next returns the next line of the log, past the lines earlier calls
// returned, within d; ok is false if the output ended first, timedOut if
// d passed first.
func (l *lineLog) next(d time.Duration) (line string, ok, timedOut bool) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		if l.cursor < len(l.lines) {
			line := l.lines[l.cursor]
			l.cursor++
			l.mu.Unlock()
			return line, true, false
		}
		grew, ended := l.grew, l.ended
		l.mu.Unlock()
		if ended {
			return "", false, false
		}
		select {
		case <-grew:
		case <-deadline.C:
			return "", false, true
		}
	}
}

// stop ends the child: gracefully, with SIGTERM and an exit status of 0,
// or by killing it.
func (c *child) stop(t *testing.T, graceful bool) {
	t.Helper()
	if !graceful {
		c.cmd.Process.Kill()
		<-c.exited
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		if c.waitErr != nil {
			t.Errorf("%s ended with %v after SIGTERM, want exit status 0", c.name, c.waitErr)
		}
	case <-time.After(guard):
		c.cmd.Process.Kill()
		<-c.exited
		t.Errorf("%s did not exit within %v of SIGTERM", c.name, guard)
	}
}

// await waits for the next line of stderr that matches re, past the lines
// earlier calls looked at, and returns its submatches.
func (c *child) await(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	return c.awaitWithin(t, re, guard)
}

// awaitWithin is await with a guard of d.
func (c *child) awaitWithin(t *testing.T, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	return c.awaitLine(t, c.stderr, re, d, "")
}

// awaitLine waits within d for the next line of l that matches re and
// returns its submatches; what, if not empty, names what the line is for
// in a failure.
func (c *child) awaitLine(t *testing.T, l *lineLog, re *regexp.Regexp, d time.Duration, what string) []string {
	t.Helper()
	if what != "" {
		what += ": "
	}
	deadline := time.Now().Add(d)
	for {
		line, ok, timedOut := l.next(time.Until(deadline))
		switch {
		case timedOut:
			t.Fatalf("%s%s logged no line matching %q on %s within %v (%s)", what, c.name, re, l.name, d, c.sched())
		case !ok:
			<-c.exited
			t.Fatalf("%s%s ended (%v) without logging a line matching %q on %s", what, c.name, c.waitErr, re, l.name)
		}
		if m := re.FindStringSubmatch(line); m != nil {
			return m
		}
	}
}

// awaitStart waits for node's start, the line of its preload, within the
// guard, and logs how long it took.
func (c *child) awaitStart(t *testing.T) {
	t.Helper()
	m := c.awaitLine(t, c.stderr, startedLine, guard, "node's start")
	c.stderr.mu.Lock()
	read := c.stderr.first.Sub(c.spawned)
	c.stderr.mu.Unlock()
	uptime, _ := strconv.ParseInt(m[1], 10, 64)
	unixMs, _ := strconv.ParseInt(m[2], 10, 64)
	t.Logf("node started: its first line read %v after the spawn, written %v after it by its clock, %v of that run by node (its uptime)",
		read.Round(time.Millisecond), time.UnixMilli(unixMs).Sub(c.spawned).Round(time.Millisecond), time.Duration(uptime)*time.Millisecond)
}

// listening returns the address of the child's next listener.
func (c *child) listening(t *testing.T) string {
	t.Helper()
	return c.await(t, listeningLine)[1]
}

// sched says how the child has fared with the scheduler so far, from
// Linux's /proc: its state (R runnable, S sleeping), how long its threads
// ran and waited for a CPU (schedstat), with the load average. A node that
// waited long for a CPU was starved; one that ran little and sleeps waits
// for something.
func (c *child) sched() string {
	pid := c.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return fmt.Sprintf("no /proc of pid %d: %v", pid, err)
	}
	state := "?"
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		state = string(stat[i+2])
	}
	var run, wait, mainRun, mainWait time.Duration
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue
		}
		var r, w, slices int64
		if _, err := fmt.Sscan(string(b), &r, &w, &slices); err != nil {
			continue
		}
		run, wait = run+time.Duration(r), wait+time.Duration(w)
		if filepath.Base(filepath.Dir(task)) == strconv.Itoa(pid) {
			mainRun, mainWait = time.Duration(r), time.Duration(w)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("pid %d: state %s %v after the spawn; its main thread ran %v and waited %v for a CPU, its %d threads ran %v and waited %v; load average %s",
		pid, state, time.Since(c.spawned).Round(time.Millisecond), mainRun.Round(time.Millisecond), mainWait.Round(time.Millisecond),
		len(tasks), run.Round(time.Millisecond), wait.Round(time.Millisecond), strings.TrimSpace(string(load)))
}

// awaitExit waits within the guard for the child to exit, after what,
// and returns its exit status.
func (c *child) awaitExit(t *testing.T, what string) int {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(guard):
		t.Fatalf("%s did not exit within %v %s (%s)", c.name, guard, what, c.sched())
	}
	var exit *exec.ExitError
	switch {
	case errors.As(c.waitErr, &exit):
		return exit.ExitCode()
	case c.waitErr != nil:
		t.Fatalf("%s: %v", c.name, c.waitErr)
	}
	return 0
}

// runNode runs node with args, the first being a file of js/dist, until it
// exits, and returns its stdout and exit status: node's start within the
// guard, then its exit within another. Its output is logged if the test
// fails.
func runNode(t *testing.T, script string, args ...string) (stdout string, status int) {
	t.Helper()
	c := startRun(t, script, args...)
	status = c.awaitExit(t, "after its start")
	return c.stdout.text(), status
}

// startRun starts node with args, the first being a file of js/dist, to
// run until it exits, reading its stdout, and waits for node's start
// within the guard. It is killed if it still runs when the test ends.
func startRun(t *testing.T, script string, args ...string) *child {
	t.Helper()
	c := startChild(t, false, true, nodePath, nodeArgs(t, script, args)...)
	c.awaitStart(t)
	return c
}

// awaitSteps waits for a run's stdout to report each of steps in order, a
// line "PASS name" or "FAIL name: why", each within the guard of its own
// and the first from node's start: a step that stalls fails the test by
// its name, after the last step that ended.
func (c *child) awaitSteps(t *testing.T, steps []string) {
	t.Helper()
	var took []string // "name duration" of each step that ended
	defer func() {
		if len(took) > 0 {
			t.Logf("steps ended after: %s", strings.Join(took, ", "))
		}
	}()
	for i, name := range steps {
		begun := time.Now()
		ended := "none"
		if len(took) > 0 {
			ended = strings.Join(took, ", ")
		}
		what := fmt.Sprintf("step %d, %s (steps ended: %s)", i+1, name, ended)
		line, ok, timedOut := c.stdout.next(guard)
		switch {
		case timedOut:
			t.Fatalf("%s: %s reported no result within %v (%s)", what, c.name, guard, c.sched())
		case !ok:
			<-c.exited
			t.Fatalf("%s: %s ended (%v) without a result", what, c.name, c.waitErr)
		case line != "PASS "+name && !strings.HasPrefix(line, "FAIL "+name+": "):
			t.Fatalf("%s: %s reported %q", what, c.name, line)
		}
		took = append(took, fmt.Sprintf("%s %v", name, time.Since(begun).Round(time.Millisecond)))
	}
}

// jsDist returns the path of a program built into js/dist, such as
// "bin/qtalk.js", failing the test if npm run build did not make it.
func jsDist(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(repoRoot, "js", "dist", filepath.FromSlash(name))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v: npm run build did not make js/dist/%s (from js/src/%s.ts)", err, name, strings.TrimSuffix(name, ".js"))
	}
	return path
}
