package main_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	pingReply   = regexp.MustCompile(`^(\d+) bytes from (.+): seq=(\d+) time=(\d+\.\d{3}) ms$`)
	pingSummary = regexp.MustCompile(`^round-trip min/avg/max/stddev = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3}) ms$`)
)

// checkPingOutput checks what ping printed for count pings of size bytes
// to addr, every one answered: a reply line per ping in order, then the
// summary, whose figures agree with the replies.
func checkPingOutput(t *testing.T, out, addr string, size, count int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != count+4 {
		t.Fatalf("ping printed %d lines, want %d:\n%s", len(lines), count+4, out)
	}
	if want := fmt.Sprintf("PING %s (qtalk:ping): %d bytes", addr, size); lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	var rtts []float64
	for i, l := range lines[1 : count+1] {
		m := pingReply.FindStringSubmatch(l)
		if m == nil || m[1] != strconv.Itoa(size) || m[2] != addr || m[3] != strconv.Itoa(i+1) {
			t.Fatalf("reply line %d: %q, want %d bytes from %s: seq=%d time=... ms", i+1, l, size, addr, i+1)
		}
		rtt, _ := strconv.ParseFloat(m[4], 64)
		rtts = append(rtts, rtt)
	}
	if want := fmt.Sprintf("--- %s ping statistics ---", addr); lines[count+1] != want {
		t.Errorf("statistics line %q, want %q", lines[count+1], want)
	}
	if want := fmt.Sprintf("%d pings sent, %d received, 0%% lost", count, count); lines[count+2] != want {
		t.Errorf("count line %q, want %q", lines[count+2], want)
	}
	m := pingSummary.FindStringSubmatch(lines[count+3])
	if m == nil {
		t.Fatalf("summary line %q, want round-trip min/avg/max/stddev = ...", lines[count+3])
	}
	var fig [4]float64
	for i := range fig {
		fig[i], _ = strconv.ParseFloat(m[i+1], 64)
	}
	lo, hi := rtts[0], rtts[0]
	for _, r := range rtts {
		lo, hi = min(lo, r), max(hi, r)
	}
	if fig[0] != lo || fig[2] != hi || fig[1] < lo-0.001 || fig[1] > hi+0.001 || fig[3] > hi-lo+0.001 {
		t.Errorf("summary %v does not agree with the round trips %v", fig, rtts)
	}
}

// qtalk ping against the built-in server over tcp, ws and exec prints a
// line per reply and a summary, and exits 0.
func TestPing(t *testing.T) {
	t.Parallel()
	s := serve(t)
	for _, tc := range []struct {
		addr        string
		size, count int
	}{
		{s.tcp, 64, 3},
		{s.ws, 100000, 2},
		{execAddr(), 0, 2},
	} {
		r := qtalk(t, "", "ping", "--count", strconv.Itoa(tc.count), "--size", strconv.Itoa(tc.size), "--interval", "10ms", tc.addr)
		r.want(t, 0, "ping "+tc.addr)
		checkPingOutput(t, r.stdout, tc.addr, tc.size, tc.count)
	}
}

// A payload over the server's frame limit fails every ping: each gets an
// error line, the summary counts them lost, and the exit status is that
// of resource_exhausted.
func TestPingTooLarge(t *testing.T) {
	t.Parallel()
	s := serve(t)
	r := qtalk(t, "", "ping", "--count", "2", "--interval", "0", "--size", strconv.Itoa(5<<20), s.tcp)
	r.want(t, 18, "ping over the frame limit")
	if n := strings.Count(r.stdout, "resource_exhausted"); n != 2 {
		t.Errorf("%d error lines naming resource_exhausted, want 2:\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stdout, "2 pings sent, 0 received, 100% lost\n") || strings.Contains(r.stdout, "round-trip") {
		t.Errorf("summary of pings that all failed:\n%s", r.stdout)
	}
	for _, args := range [][]string{
		{"ping"},
		{"ping", "--size", "-1", s.tcp},
		{"ping", "--count", "-1", s.tcp},
		{"ping", "--timeout", "0", s.tcp},
		{"ping", "nope://x"},
	} {
		qtalk(t, "", args...).want(t, 2, fmt.Sprintf("%q", args))
	}
}

// Without --count, ping goes on until SIGINT, then prints the summary of
// the pings sent and exits 0.
func TestPingUntilInterrupted(t *testing.T) {
	t.Parallel()
	s := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := command(ctx, "ping", "--interval", "5ms", s.tcp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var out strings.Builder
	replies := 0
	for replies < 3 && sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if pingReply.MatchString(sc.Text()) {
			replies++
		}
	}
	if replies < 3 {
		cmd.Wait()
		t.Fatalf("ping ended before 3 replies:\n%s", out.String())
	}
	cmd.Process.Signal(os.Interrupt)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ping interrupted: %v\n%s", err, out.String())
	}
	// Replies printed after the third, before the signal arrived, count too.
	n := strings.Count(out.String(), " bytes from ")
	checkPingOutput(t, out.String(), s.tcp, 64, n)
}
