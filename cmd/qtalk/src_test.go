package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/modproxy"
)

// srcBuildTimeout bounds the first call to a service built from source:
// it waits for go install to compile qtalk and its dependencies, with a
// cold build cache, on a loaded machine.
const srcBuildTimeout = 5 * time.Minute

// qtalk serve runs a service built from source (a module of a file module
// proxy the test writes, with qtalk from this checkout: no network), and
// qtalk call reaches it; a second server finds the program in the cache
// and does not build again; qtalk ls --json tells where its labels come
// from.
func TestServeSrc(t *testing.T) {
	proxy := modproxy.New(t)
	proxy.AddHello(t, "v1.2.0", false)
	proxy.Setenv(t)
	conf := writeConfig(t, fmt.Sprintf(`
listen = ["tcp://127.0.0.1:0", "ws://127.0.0.1:0/qtalk"]
cache_dir = %q
[services]
hello = { src = "%s#v1.2.0" }
`, t.TempDir(), modproxy.HelloModule))

	for i, name := range []string{"first", "second"} {
		s := serveArgs(t, "serve", "--config", conf)
		ctx, cancel := context.WithTimeout(context.Background(), srcBuildTimeout)
		defer cancel()
		cmd := command(ctx, "call", "--unary-timeout", srcBuildTimeout.String(), s.tcp, "hello:greet", `"`+name+`"`)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("qtalk call hello:greet: %v\n%s\nserver:\n%s", err, stderr.String(), s.log())
		}
		if want := `"hello ` + name + ` from v1.2.0"` + "\n"; stdout.String() != want {
			t.Errorf("qtalk call hello:greet printed %q, want %q", stdout.String(), want)
		}
		if got, want := len(building.FindAllString(s.log(), -1)), 1-i; got != want {
			t.Errorf("%s server: built %d times, want %d\n%s", name, got, want, s.log())
		}

		r := qtalk(t, "", "ls", "--json", s.tcp)
		r.want(t, 0, "ls --json")
		var labels []struct{ Label, Module, Version string }
		if err := json.Unmarshal([]byte(r.stdout), &labels); err != nil {
			t.Fatalf("ls --json printed %q: %v", r.stdout, err)
		}
		found := false
		for _, l := range labels {
			if strings.HasPrefix(l.Label, "hello:") {
				found = true
				if l.Module != modproxy.HelloModule || l.Version != "v1.2.0" {
					t.Errorf("ls --json: %s comes from %q %q, want %s v1.2.0", l.Label, l.Module, l.Version, modproxy.HelloModule)
				}
			}
		}
		if !found {
			t.Errorf("ls --json lists no hello label:\n%s", r.stdout)
		}
		s.stop(t)
	}
}

// building matches the log line of a build from source.
var building = regexp.MustCompile(`\] building src=`)
