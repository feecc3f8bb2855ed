//go:build browser

package jsinterop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A child is a long-running process of a test, such as a Node server,
// whose stderr lines the test waits for: the address it listens on, the
// sessions it saw end.
type child struct {
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []string      // stderr so far
	ended  bool          // stderr is closed
	grew   chan struct{} // closed, and replaced, when lines grow or stderr ends
	cursor int           // the first line await has not looked at

	exited  chan struct{} // closed once the process has exited
	waitErr error         // cmd.Wait's error, set before exited is closed
}

// listeningLine is the line a child logs for each listener it opens: the
// Node fixtures print "listening addr=ADDR", qtalk serve adds its bracket
// in front.
var listeningLine = regexp.MustCompile(`listening .*addr=(\S+)`)

// startNode starts node with args, the first being a file of js/dist (see
// startChild).
func startNode(t *testing.T, graceful bool, script string, args ...string) *child {
	t.Helper()
	return startChild(t, graceful, nodePath, append([]string{jsDist(t, script)}, args...)...)
}

// startChild starts a process in the repository's root and stops it when
// the test ends: a graceful child gets SIGTERM and must exit with status
// 0, others are killed. Its stderr is logged if the test failed.
func startChild(t *testing.T, graceful bool, path string, args ...string) *child {
	t.Helper()
	c := &child{
		name:   strings.Join(append([]string{path}, args...), " "),
		cmd:    exec.Command(path, args...),
		grew:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	c.cmd.Dir = repoRoot
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", c.name, err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		s := bufio.NewScanner(stderr)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			c.add(s.Text(), false)
		}
		c.add("", true)
	}()
	go func() {
		<-readDone // Wait closes the pipe: read it all first
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.stop(t, graceful)
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", c.name, c.stderr())
		}
	})
	return c
}

// add appends a line to the child's stderr, or notes its end.
func (c *child) add(line string, end bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if end {
		c.ended = true
	} else {
		c.lines = append(c.lines, line)
	}
	close(c.grew)
	c.grew = make(chan struct{})
}

// stderr returns what the child wrote to stderr so far.
func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
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
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for c.cursor < len(c.lines) {
			line := c.lines[c.cursor]
			c.cursor++
			if m := re.FindStringSubmatch(line); m != nil {
				c.mu.Unlock()
				return m
			}
		}
		grew, ended := c.grew, c.ended
		c.mu.Unlock()
		if ended {
			<-c.exited
			t.Fatalf("%s ended (%v) without logging a line matching %q", c.name, c.waitErr, re)
		}
		select {
		case <-grew:
		case <-deadline.C:
			t.Fatalf("%s logged no line matching %q within %v", c.name, re, d)
		}
	}
}

// listening returns the address of the child's next listener.
func (c *child) listening(t *testing.T) string {
	t.Helper()
	return c.await(t, listeningLine)[1]
}

// runNode runs node with args, the first being a file of js/dist, until it
// exits, and returns its stdout and exit status. Its stderr is logged if
// the test fails.
func runNode(t *testing.T, script string, args ...string) (stdout string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodePath, append([]string{jsDist(t, script)}, args...)...)
	cmd.Dir = repoRoot
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node %s %s: stdout:\n%s\nstderr:\n%s", script, strings.Join(args, " "), out.String(), errOut.String())
		}
	})
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node %s %s did not finish within %v", script, strings.Join(args, " "), guard)
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("node %s: %v", script, err)
	}
	return out.String(), 0
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
