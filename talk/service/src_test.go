package service_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/modproxy"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/service"
)

// srcEnv sets up a file module proxy serving example.test/hello at
// v1.0.0 and v1.0.1 (which does not compile), with qtalk from this
// checkout, and the go command's environment to build from it alone.
func srcEnv(t *testing.T) {
	proxy := modproxy.New(t)
	proxy.AddHello(t, "v1.0.0", false)
	proxy.AddHello(t, "v1.0.1", true)
	proxy.Setenv(t)
}

// A service from source is built from its module at its version, with
// the go command and the configured module proxy, and served over stdio;
// a second server reuses the build. A build that fails is one line with
// the service's name.
func TestSrcService(t *testing.T) {
	srcEnv(t)
	cache := t.TempDir()
	text := fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
cache_dir = %q
[services]
hello = { src = "example.test/hello#v1.0.0" }
broken = { src = "example.test/hello@v1.0.1", service = "hello" }
`, cache)
	srv, jl := startProcessServer(t, text)
	p := dial(t, addrOf(srv))
	// The first call waits for the build: compiling qtalk and its
	// dependencies, with a cold build cache, on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var got string
	if _, err := p.Call(ctx, "hello:greet", "src", &got); err != nil || got != "hello src from v1.0.0" {
		t.Fatalf("hello:greet = %q, %v", got, err)
	}
	if n := len(jl.find("built", map[string]string{"id": "hello", "src": "example.test/hello@v1.0.0"})); n != 1 {
		t.Errorf("%d builds, want 1", n)
	}
	bin := filepath.Join(cache, "src", "example.test", "hello@v1.0.0", "hello")
	if _, err := os.Stat(bin); err != nil {
		t.Errorf("the program is not in the cache: %v", err)
	}

	_, err := p.Call(ctx, "broken:greet", "src", nil)
	checkCode(t, "a call to a service that does not build", err, rpc.CodeUnavailable)
	msg := rpc.CodeOf(err).String()
	var re *rpc.Error
	if errors.As(err, &re) {
		msg = re.Message
	}
	if !strings.Contains(msg, "service broken: go install example.test/hello@v1.0.1: ") || !strings.Contains(msg, "undefined") || strings.Contains(msg, "\n") {
		t.Errorf("build error %q, want one line naming the service and what failed", msg)
	}
	srv.Close()

	// A second server finds the program in the cache.
	srv2, jl2 := startProcessServer(t, text)
	p2 := dial(t, addrOf(srv2))
	if _, err := p2.Call(ctx, "hello:greet", "again", &got); err != nil || got != "hello again from v1.0.0" {
		t.Fatalf("hello:greet = %q, %v", got, err)
	}
	if n := len(jl2.find("building", map[string]string{"id": "hello"})); n != 0 {
		t.Errorf("built again: %d builds", n)
	}
	var src service.SourceInfo
	want := service.SourceInfo{Service: "hello", Module: modproxy.HelloModule, Version: "v1.0.0", Origin: service.OriginSrc}
	if _, err := p2.Call(ctx, service.LabelSource, "hello", &src); err != nil || src != want {
		t.Errorf("%s hello = %+v, %v; want %+v", service.LabelSource, src, err, want)
	}
	var infos []service.ServiceInfo
	if _, err := p2.Call(ctx, service.LabelServices, nil, &infos); err != nil || len(infos) != 2 || infos[1].Provider != "src:example.test/hello@v1.0.0" {
		t.Errorf("qtalk:services = %+v, %v", infos, err)
	}
}
