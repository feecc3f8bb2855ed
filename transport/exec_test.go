package transport_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport"
)

// childAddr is the exec address of this test binary, which runs the child
// role named by childEnv (see TestMain).
func childAddr() string { return "exec:'" + os.Args[0] + "' -test.run=^$" }

// dialChild starts this test binary as a child in role and returns the
// session and the started command.
func dialChild(t *testing.T, role string) (*exec.Cmd, mux.Session) {
	t.Helper()
	t.Setenv(childEnv, role)                // inherited by the child
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race child exits at once
	var cmd *exec.Cmd
	defer transport.SetExecStarted(func(c *exec.Cmd) { cmd = c })()
	s, err := transport.Dial(context.Background(), childAddr())
	if err != nil {
		t.Fatal(err)
	}
	return cmd, s
}

func TestExecEcho(t *testing.T) {
	t.Setenv(childEnv, "echo")
	s, err := transport.Dial(context.Background(), childAddr())
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RemoteAddr().Network(); got != "exec" {
		t.Errorf("RemoteAddr network %q, want exec", got)
	}
	checkEcho(t, s)
	checkEcho(t, s)
	s.Close()
	if err := s.Wait(); err != nil {
		t.Errorf("Wait after Close: %v", err)
	}
}

func TestExecExitStatus(t *testing.T) {
	_, s := dialChild(t, "exit3")
	defer s.Close()
	// Keep the writer busy too, so the status must come through whichever
	// of Read and Write fails first.
	go func() {
		time.Sleep(10 * time.Millisecond)
		s.Open(context.Background()) // fails when the session ends
	}()
	err := waitTimeout(t, s)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("Wait: %v, want an *exec.ExitError with status 3", err)
	}
	if !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Wait error %q does not say the exit status", err)
	}
}

func TestExecExitZero(t *testing.T) {
	_, s := dialChild(t, "exit0")
	defer s.Close()
	if err := waitTimeout(t, s); !errors.Is(err, io.EOF) {
		t.Fatalf("Wait: %v, want io.EOF for status 0", err)
	}
}

func TestExecCloseKillsChild(t *testing.T) {
	cmd, s := dialChild(t, "hang")
	if cmd == nil {
		t.Fatal("no command started")
	}
	start := time.Now()
	s.Close()
	if err := waitTimeout(t, s); err != nil {
		t.Errorf("Wait after Close: %v", err)
	}
	// Close returns after the child was reaped.
	if cmd.ProcessState == nil {
		t.Fatal("child not reaped after Close")
	}
	if cmd.ProcessState.Success() {
		t.Errorf("child state %v, want killed", cmd.ProcessState)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

func TestExecErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := transport.Listen(ctx, "exec:cat"); !errors.Is(err, transport.ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Listen exec: %v, want ErrUnsupported", err)
	}
	if _, err := transport.Dial(ctx, "exec:/nonexistent/qtalk-test-binary"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dial of a missing binary: %v, want os.ErrNotExist", err)
	}
}

// waitTimeout returns s.Wait(), failing the test if it takes too long.
func waitTimeout(t *testing.T, s interface{ Wait() error }) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.Wait() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Wait did not return")
		return nil
	}
}
