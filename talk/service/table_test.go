package service_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/service"
)

// writeFile replaces the file at path with text, whole.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestTableService answers get and list from a TOML and a JSON file, and
// serves a file's new content once it changed.
func TestTableService(t *testing.T) {
	dir := t.TempDir()
	colors := filepath.Join(dir, "colors.toml")
	sizes := filepath.Join(dir, "sizes.json")
	writeFile(t, colors, "red = \"#f00\"\nblue = \"#00f\"\n")
	writeFile(t, sizes, `{"s": 1, "m": 2}`)
	srv, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
colors = { provider = "table", file = %q }
sizes  = { provider = "table", file = %q }
`, colors, sizes))
	p := dial(t, addrOf(srv))

	if got := mustCall(t, p, "colors:get", "red"); got != "#f00" {
		t.Errorf("colors:get red = %q, want #f00", got)
	}
	var n int
	if _, err := p.Call(testCtx(t), "sizes:get", []string{"m"}, &n); err != nil || n != 2 {
		t.Errorf("sizes:get [m] = %d, %v; want 2", n, err)
	}
	var keys []string
	if _, err := p.Call(testCtx(t), "colors:list", nil, &keys); err != nil || !slices.Equal(keys, []string{"blue", "red"}) {
		t.Errorf("colors:list = %q, %v; want [blue red]", keys, err)
	}
	_, err := call(t, p, "colors:get", "green")
	checkCode(t, "colors:get green", err, rpc.CodeNotFound)
	_, err = call(t, p, "colors:get", 7)
	checkCode(t, "colors:get 7", err, rpc.CodeInvalidArgument)

	// A change that does not parse keeps the old content; the next one
	// that does is served.
	sub := subscribe(t, p, "colors")
	writeFile(t, colors, "red = \n")
	writeFile(t, colors, "red = \"#e00\"\ngreen = \"#0f0\"\n")
	for {
		if ev, err := sub.Next(); err != nil {
			t.Fatalf("waiting for %s: %v", service.EventTableReloaded, err)
		} else if ev.Name == "colors/"+service.EventTableReloaded {
			break
		}
	}
	if got := mustCall(t, p, "colors:get", "green"); got != "#0f0" {
		t.Errorf("colors:get green after the change = %q, want #0f0", got)
	}
}
