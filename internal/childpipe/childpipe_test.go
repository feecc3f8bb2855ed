package childpipe_test

import (
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/qtalkkit/qtalk/internal/childpipe"
)

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// A child reads its stdin from the parent and writes its stdout and
// stderr to it; once it exited and the parent closed its ends, no file
// of the parent is left open.
func TestStart(t *testing.T) {
	before := openFiles(t)
	cmd := exec.Command("sh", "-c", "cat; echo oops >&2")
	p, err := childpipe.Start(cmd, true)
	if err != nil {
		t.Fatal(err)
	}
	p.Stdin.Write([]byte("hello"))
	p.Stdin.Close()
	out, err := io.ReadAll(p.Stdout)
	if err != nil || string(out) != "hello" {
		t.Errorf("stdout %q, %v; want hello", out, err)
	}
	errOut, err := io.ReadAll(p.Stderr)
	if err != nil || string(errOut) != "oops\n" {
		t.Errorf("stderr %q, %v; want oops", errOut, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	p.Stdout.Close()
	p.Stderr.Close()
	if after := openFiles(t); after != before {
		t.Errorf("%d files open, %d before", after, before)
	}
}

// Without withStderr, the child's stderr is the command's; a command
// that does not start leaves no pipe open.
func TestStartFails(t *testing.T) {
	before := openFiles(t)
	cmd := exec.Command("/nonexistent/program")
	cmd.Stderr = os.Stderr
	if _, err := childpipe.Start(cmd, false); err == nil {
		t.Fatal("started a program that does not exist")
	}
	if cmd.Stderr != os.Stderr {
		t.Error("stderr replaced without withStderr")
	}
	if after := openFiles(t); after != before {
		t.Errorf("%d files open, %d before", after, before)
	}
}
