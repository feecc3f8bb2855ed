package service_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/grid"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/service"
)

// TestGridFromConfig starts two servers whose configs name each other in
// [grid]: their link forms, qtalk:grid lists it, and it goes down when the
// other server closes.
func TestGridFromConfig(t *testing.T) {
	a, b := "tcp://"+freePort(t), "tcp://"+freePort(t)
	text := func(self string) string {
		return fmt.Sprintf("listen = \"tcp://127.0.0.1:0\"\n[grid]\nself = %q\nhosts = [%q, %q]\nping_interval = \"50ms\"\nping_timeout = \"200ms\"\n", self, a, b)
	}
	srvA, _ := startServer(t, text(a))
	srvB, _ := startServer(t, text(b))
	if srvA.Grid() == nil || srvB.Grid() == nil {
		t.Fatal("a server with [grid] has no Grid after Start")
	}
	p := dial(t, addrOf(srvA))

	awaitLink(t, srvA, p, b, grid.Connected)
	var labels []string
	if _, err := p.Call(testCtx(t), service.LabelLabels, nil, &labels); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(labels, service.LabelGrid) {
		t.Errorf("qtalk:labels = %q, missing %s", labels, service.LabelGrid)
	}

	srvB.Close()
	links := awaitLink(t, srvA, p, b, grid.Disconnected)
	if links[0].Error == "" {
		t.Errorf("a disconnected link without its error: %+v", links[0])
	}

	// A server in no grid answers an empty list and does not list it.
	lone, _ := startServer(t, `listen = "tcp://127.0.0.1:0"`)
	q := dial(t, addrOf(lone))
	var none []grid.LinkInfo
	if _, err := q.Call(testCtx(t), service.LabelGrid, nil, &none); err != nil || len(none) != 0 {
		t.Errorf("qtalk:grid without a grid: %+v, %v", none, err)
	}
}

// awaitLink waits until srv's link to host has status, then returns
// what qtalk:grid lists on p.
func awaitLink(t *testing.T, srv *service.Server, p *talk.Peer, host string, status grid.Status) []grid.LinkInfo {
	t.Helper()
	c, err := srv.Grid().Connection(host)
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		changed := c.Changed()
		if c.State().Status == status {
			break
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("link to %s: %v after 5s, want %v", host, c.State().Status, status)
		}
	}
	var links []grid.LinkInfo
	if _, err := p.Call(testCtx(t), service.LabelGrid, nil, &links); err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Host != host || links[0].Status != status.String() {
		t.Fatalf("qtalk:grid = %+v, want one link to %s, %v", links, host, status)
	}
	return links
}
