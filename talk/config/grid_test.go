package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/talk/config"
)

func TestParseGrid(t *testing.T) {
	cfg, err := config.Parse([]byte(`
[grid]
self = "tcp://10.0.0.1:7000"
hosts = ["tcp://10.0.0.1:7000", "tcp://10.0.0.2:7000", "tcp://10.0.0.3:7000"]
ping_interval = "500ms"
ping_timeout = "1s"
`), "q.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Grid{
		Self:         "tcp://10.0.0.1:7000",
		Hosts:        []string{"tcp://10.0.0.1:7000", "tcp://10.0.0.2:7000", "tcp://10.0.0.3:7000"},
		PingInterval: 500 * time.Millisecond,
		PingTimeout:  time.Second,
	}
	if !reflect.DeepEqual(cfg.Grid, want) {
		t.Errorf("Grid = %+v, want %+v", cfg.Grid, want)
	}
	if cfg, _ := config.Parse(nil, "q.toml"); cfg.Grid != nil {
		t.Errorf("Grid of an empty file = %+v, want nil", cfg.Grid)
	}

	for _, tt := range []struct{ name, doc, key, msg string }{
		{"no self", "[grid]\nhosts = [\"tcp://h:1\"]", "grid", "missing self"},
		{"bad self", "[grid]\nself = \"nope://x\"", "grid.self", "unknown scheme"},
		{"exec host", "[grid]\nself = \"tcp://h:1\"\nhosts = [\"exec:cat\"]", "grid.hosts", "cannot be a grid host"},
		{"unknown key", "[grid]\nself = \"tcp://h:1\"\nhost = \"x\"", "grid.host", "unknown key"},
		{"short ping", "[grid]\nself = \"tcp://h:1\"\nping_interval = \"1ms\"", "grid.ping_interval", "out of range"},
		{"not a table", "grid = 3", "grid", "want a table"},
	} {
		_, err := config.Parse([]byte(tt.doc), "q.toml")
		var ce *config.Error
		if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) || ce.Key != tt.key || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want key %s and %q", tt.name, err, tt.key, tt.msg)
		}
	}
}
