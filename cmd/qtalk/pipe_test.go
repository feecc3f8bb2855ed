package main_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/relay"
)

// randomText returns n random bytes as a string.
func randomText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return string(b)
}

// TestPipeStdio runs "qtalk pipe stdio: TO" as socat - is used in
// scripts: stdin goes to TO, TO's bytes come out on stdout, and the pipe
// exits once both are done.
func TestPipeStdio(t *testing.T) {
	t.Parallel()
	data := randomText(200 << 10)

	// A raw TCP server that answers the SHA-256 of what it got once the
	// client half-closed: the end of stdin must come through.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		h := sha256.New()
		io.Copy(h, conn)
		conn.Write(h.Sum(nil))
	}()
	r := qtalk(t, data, "pipe", "stdio:", "tcp://"+ln.Addr().String())
	r.want(t, 0, "pipe to tcp")
	if sum := sha256.Sum256([]byte(data)); r.stdout != string(sum[:]) {
		t.Errorf("pipe to tcp printed %x, want the sha256 of stdin, %x", r.stdout, sum)
	}

	// A label's byte stream through a qtalk server: check:bytes echoes.
	s := serve(t)
	r = qtalk(t, data, "pipe", "stdio:", s.tcp+"!check:bytes")
	r.want(t, 0, "pipe to check:bytes")
	if r.stdout != data {
		t.Errorf("pipe to check:bytes printed %d bytes, want the %d of stdin back", len(r.stdout), len(data))
	}
}

func TestPipeUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"stdio:"}, "want FROM TO, got 1 arguments"},
		{[]string{"exec:cat", "stdio:"}, "exec addresses can only be dialed"},
		{[]string{"tcp://127.0.0.1", "stdio:"}, "bad address"},
		{[]string{"--max-conns", "-1", "tcp://127.0.0.1:0", "stdio:"}, "cannot be negative"},
	} {
		r := qtalk(t, "", append([]string{"pipe"}, tc.args...)...)
		r.want(t, 2, strings.Join(tc.args, " "))
		if !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("qtalk pipe %q: stderr %q, want %q", tc.args, r.stderr, tc.stderr)
		}
	}
}

// TestPipeListens runs "qtalk pipe ws://... tcp://..." as the README
// shows, bridging a TCP service to WebSocket clients, until SIGINT.
func TestPipeListens(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer conn.Close(); io.Copy(conn, conn) }()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := command(ctx, "pipe", "ws://127.0.0.1:0/db", "tcp://"+ln.Addr().String())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	listened := regexp.MustCompile(`piping .*listened=(\S+)`)
	var addr string
	for addr == "" && sc.Scan() {
		if m := listened.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	go io.Copy(io.Discard, stderr)
	if addr == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("qtalk pipe did not log the address it listens on")
	}
	for range 2 { // connection after connection
		conn, err := relay.Dial(ctx, "ws://"+addr+"/db", nil)
		if err != nil {
			t.Fatal(err)
		}
		data := randomText(100 << 10)
		go conn.Write([]byte(data))
		got := make([]byte, len(data))
		if _, err := io.ReadFull(conn, got); err != nil || string(got) != data {
			t.Fatalf("read back %d bytes, %v; want the %d sent", len(got), err, len(data))
		}
		conn.Close()
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("qtalk pipe after SIGINT: %v, want exit status 0", err)
	}
}
