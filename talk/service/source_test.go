package service_test

import (
	"fmt"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/service"
)

// TestSource answers where services come from: a local module's module
// and version from the build info, or its import path alone when the
// build does not have it, and an upstream's from the upstream's answer.
func TestSource(t *testing.T) {
	// Not parallel: the build info is the package's. It is restored in a
	// cleanup registered before the servers start, so it runs after they
	// stopped, when no handler reads it any more.
	t.Cleanup(service.SetBuildInfo(&debug.BuildInfo{
		Main: debug.Module{Path: "example.com/server", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "example.net", Version: "v1.0.0"},
			{Path: "example.net/chat", Version: "v1.2.3", Replace: &debug.Module{Path: "../chat", Version: "v1.2.4"}},
		},
	}))
	up, _ := startServer(t, upstreamConfig("127.0.0.1:0"))
	table := filepath.Join(t.TempDir(), "t.json")
	writeFile(t, table, "{}")
	gw, _ := startServer(t, gatewayConfig(up.Addrs()[0].String(), fmt.Sprintf(`
greeter = { provider = "local", module = "example.net/greeter" }
table = { provider = "table", file = %q }`, table)))
	p := dial(t, addrOf(gw))
	for _, tt := range []struct {
		service string
		want    service.SourceInfo
	}{
		{"greeter", service.SourceInfo{Service: "greeter", Module: "example.net", Version: "v1.0.0", Origin: service.OriginBuild}},
		{"table", service.SourceInfo{Service: "table", Module: "qtalk/table", Origin: service.OriginConfig}},
		{"guild", service.SourceInfo{Service: "guild", Module: "example.net/chat", Version: "v1.2.4", Origin: service.OriginUpstream}},
	} {
		var got service.SourceInfo
		if _, err := p.Call(testCtx(t), service.LabelSource, tt.service, &got); err != nil || got != tt.want {
			t.Errorf("%s %s = %+v, %v; want %+v", service.LabelSource, tt.service, got, err, tt.want)
		}
	}
	var got service.SourceInfo
	if _, err := dial(t, addrOf(up)).Call(testCtx(t), service.LabelSource, "guild-service", &got); err != nil || got.Origin != service.OriginBuild || got.Version != "v1.2.4" {
		t.Errorf("%s at the upstream = %+v, %v; want the replacement's version from the build", service.LabelSource, got, err)
	}
	_, err := p.Call(testCtx(t), service.LabelSource, "nope", nil)
	checkCode(t, "source of no service", err, rpc.CodeNotFound)
}
