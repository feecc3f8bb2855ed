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
// adds to them (the poll interval, process scheduling). The ping timeout is
// how long a live host may take to answer: on a loaded machine (both cores
// busy 15 times over, under -race) a host process can wait hundreds of
// milliseconds for a processor, and 300 ms was found too short, taking a
// live link down; 2 s, grid's default, is what a live host is given.
const (
	pingInterval = 200 * time.Millisecond
	pingTimeout  = 2 * time.Second
	detectBound  = pingInterval + pingTimeout
	slack        = time.Second
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

	// status is what host i's qtalk:grid says of its link to host j.
	status := func(i, j int) string {
		return links(callAddrs[i])[gridAddrs[j]].Status
	}
	allConnected := func() bool {
		for i := 1; i <= 3; i++ {
			ls := links(callAddrs[i])
			if len(ls) != 2 {
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
		for h, l := range links(callAddrs[i]) {
			since[fmt.Sprint(i, h)] = l.Since
		}
	}
	watch := time.NewTicker(pingInterval / 2)
	defer watch.Stop()
	for end := time.Now().Add(4 * pingInterval); time.Now().Before(end); <-watch.C {
		for i := 1; i <= 3; i++ {
			for h, l := range links(callAddrs[i]) {
				if l.Status != "connected" || l.Since != since[fmt.Sprint(i, h)] {
					t.Fatalf("host %d's link to %s changed: %+v (was up since %s)", i, h, l, since[fmt.Sprint(i, h)])
				}
			}
		}
	}
	for i := 1; i <= 3; i++ {
		for j := i + 1; j <= 3; j++ {
			if links(callAddrs[i])[gridAddrs[j]].Dialer == links(callAddrs[j])[gridAddrs[i]].Dialer {
				t.Errorf("hosts %d and %d do not agree on who dials", i, j)
			}
		}
	}

	// SIGKILL host 3: hosts 1 and 2 see its link drop within the bound.
	nodes[3].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[3].done
	d := await(t, "link to the killed host down", detectBound+slack, func() bool {
		return status(1, 3) == "disconnected" && status(2, 3) == "disconnected"
	})
	t.Logf("SIGKILL: links down after %v (bound %v)", d, detectBound)
	if status(1, 2) != "connected" {
		t.Errorf("the link between the live hosts went down: %s", status(1, 2))
	}
	// Restart it: the links come back by themselves.
	nodes[3] = start(t, bin, n.ns(3), files[3])
	d = await(t, "links back after the restart", 10*time.Second, allConnected)
	t.Logf("restart: links up after %v", d)

	// Host 3's veth goes down: nothing is closed, the pings go unanswered.
	n.setLink(3, false)
	d = await(t, "link to the cut-off host down", detectBound+slack, func() bool {
		return status(1, 3) == "disconnected" && status(2, 3) == "disconnected"
	})
	t.Logf("veth down: links down after %v (bound %v)", d, detectBound)
	n.setLink(3, true)
	d = await(t, "links back after the veth came up", 10*time.Second, allConnected)
	t.Logf("veth up: links up after %v", d)

	// Host 2 is stopped: its process answers nothing until it continues.
	nodes[2].cmd.Process.Signal(syscall.SIGSTOP)
	d = await(t, "link to the stopped host down", detectBound+slack, func() bool {
		return status(1, 2) == "disconnected" && status(3, 2) == "disconnected"
	})
	t.Logf("SIGSTOP: links down after %v (bound %v)", d, detectBound)
	nodes[2].cmd.Process.Signal(syscall.SIGCONT)
	d = await(t, "links back after SIGCONT", 10*time.Second, allConnected)
	t.Logf("SIGCONT: links up after %v", d)
}
