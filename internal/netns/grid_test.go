//go:build netns

package netns_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The grid's ping settings in these tests, and the slack a busy machine
// adds to them. The ping timeout is how long a live host may take to
// answer: on a loaded machine (both cores busy 15 times over, under -race)
// a host process can wait hundreds of milliseconds for a processor, and
// 300 ms was found too short, taking a live link down; 2 s, grid's
// default, is what a live host is given. The slack is the lateness of the
// hosts' own timers and goroutines on such a machine: the time a host
// found a link down is read from its own log, so the test's polling adds
// nothing to it.
const (
	pingInterval = 200 * time.Millisecond
	pingTimeout  = 2 * time.Second
	detectBound  = pingInterval + pingTimeout
	slack        = time.Second
	// logGuard bounds the wait for the hosts to log what the test checks
	// the time of: a guard against a hang, not the bound.
	logGuard = 20 * time.Second
)

// TestGridThreeHosts runs qtalk serve with a [grid] of three hosts, each in
// its own namespace: the links form once; a SIGKILLed host's links go down
// within the bound on the others and come back when it restarts; a host
// whose veth goes down, or whose process is stopped, is found silent within
// the bound and its links heal when it returns.
func TestGridThreeHosts(t *testing.T) {
	n := newNetwork(t, 3)
	bin := buildQtalk(t)
	dir := t.TempDir()
	var gridAddrs, callAddrs [4]string
	var hosts []string
	for i := 1; i <= 3; i++ {
		gridAddrs[i] = fmt.Sprintf("tcp://%s:7000", n.addr(i))
		callAddrs[i] = fmt.Sprintf("tcp://%s:4242", n.addr(i))
		hosts = append(hosts, fmt.Sprintf("%q", gridAddrs[i]))
	}
	files := [4]string{}
	for i := 1; i <= 3; i++ {
		files[i] = filepath.Join(dir, fmt.Sprintf("node%d.toml", i))
		text := fmt.Sprintf("listen = %q\n[grid]\nself = %q\nhosts = [%s]\nping_interval = %q\nping_timeout = %q\n",
			callAddrs[i], gridAddrs[i], strings.Join(hosts, ", "), pingInterval, pingTimeout)
		if err := os.WriteFile(files[i], []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nodes := [4]*node{}
	for i := 1; i <= 3; i++ {
		nodes[i] = start(t, bin, n.ns(i), files[i])
	}

	// status is what host i's qtalk:grid says of its link to host j; host
	// i is up and reachable.
	status := func(i, j int) string {
		return mustLinks(t, callAddrs[i])[gridAddrs[j]].Status
	}
	// allConnected is whether every host lists both its links connected.
	// A host that cannot be asked is not yet: it has just started, been
	// restarted, had its veth brought up or been continued, and may not
	// listen or answer yet.
	allConnected := func() bool {
		for i := 1; i <= 3; i++ {
			ls, err := links(callAddrs[i])
			if err != nil || len(ls) != 2 {
				return false
			}
			for _, l := range ls {
				if l.Status != "connected" {
					return false
				}
			}
		}
		return true
	}
	await(t, "all links up", 20*time.Second, allConnected)

	// Links form once: a few pings later, every link is still the one that
	// came up first, and each pair has one dialer.
	since := map[string]string{}
	for i := 1; i <= 3; i++ {
		for h, l := range mustLinks(t, callAddrs[i]) {
			since[fmt.Sprint(i, h)] = l.Since
		}
	}
	watch := time.NewTicker(pingInterval / 2)
	defer watch.Stop()
	for end := time.Now().Add(4 * pingInterval); time.Now().Before(end); <-watch.C {
		for i := 1; i <= 3; i++ {
			for h, l := range mustLinks(t, callAddrs[i]) {
				if l.Status != "connected" || l.Since != since[fmt.Sprint(i, h)] {
					t.Fatalf("host %d's link to %s changed: %+v (was up since %s)", i, h, l, since[fmt.Sprint(i, h)])
				}
			}
		}
	}
	for i := 1; i <= 3; i++ {
		for j := i + 1; j <= 3; j++ {
			if mustLinks(t, callAddrs[i])[gridAddrs[j]].Dialer == mustLinks(t, callAddrs[j])[gridAddrs[i]].Dialer {
				t.Errorf("hosts %d and %d do not agree on who dials", i, j)
			}
		}
	}

	// detected checks that each host of by logged its link to host gone
	// down within the bound after it went silent at silent, by the
	// host's own clock, and that it lists the link down.
	detected := func(what string, gone int, silent time.Time, by ...int) {
		t.Helper()
		var at [4]time.Time
		await(t, what+": the hosts log the link down", logGuard, func() bool {
			for _, i := range by {
				var ok bool
				if at[i], ok = nodes[i].logged("grid: link down", gridAddrs[gone], silent); !ok {
					return false
				}
			}
			return true
		})
		for _, i := range by {
			d := at[i].Sub(silent)
			t.Logf("%s: host %d logged its link to host %d down after %v (bound %v)", what, i, gone, d, detectBound)
			if d > detectBound+slack {
				t.Errorf("%s: host %d logged its link to host %d down after %v, not within %v (+%v slack)", what, i, gone, d, detectBound, slack)
			}
			if s := status(i, gone); s != "disconnected" {
				t.Errorf("%s: host %d lists its link to host %d %s, having logged it down", what, i, gone, s)
			}
		}
	}

	// SIGKILL host 3: hosts 1 and 2 see its link drop within the bound.
	silent := time.Now()
	nodes[3].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[3].done
	detected("SIGKILL", 3, silent, 1, 2)
	if s := status(1, 2); s != "connected" {
		t.Errorf("the link between the live hosts went down: %s", s)
	}
	// Restart it: the links come back by themselves.
	nodes[3] = start(t, bin, n.ns(3), files[3])
	d := await(t, "links back after the restart", 10*time.Second, allConnected)
	t.Logf("restart: links up after %v", d)

	// Host 3's veth goes down: nothing is closed, the pings go unanswered.
	silent = time.Now()
	n.setLink(3, false)
	detected("veth down", 3, silent, 1, 2)
	n.setLink(3, true)
	d = await(t, "links back after the veth came up", 10*time.Second, allConnected)
	t.Logf("veth up: links up after %v", d)

	// Host 2 is stopped: its process answers nothing until it continues.
	silent = time.Now()
	nodes[2].cmd.Process.Signal(syscall.SIGSTOP)
	detected("SIGSTOP", 2, silent, 1, 3)
	nodes[2].cmd.Process.Signal(syscall.SIGCONT)
	d = await(t, "links back after SIGCONT", 10*time.Second, allConnected)
	t.Logf("SIGCONT: links up after %v", d)
}
