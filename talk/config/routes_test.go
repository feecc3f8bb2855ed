package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/talk/config"
)

func TestParseRoutes(t *testing.T) {
	doc := `
[routes]
db = { from = "ws://0.0.0.0:8080/db", to = "tcp://127.0.0.1:5432" }

[routes.files]
from = "tcp://0.0.0.0:4300!files"
to = "unix:///run/files.sock"
max_conns = 64
idle_timeout = "5m"
`
	cfg, err := config.Parse([]byte(doc), "q.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Route{
		{Name: "db", From: "ws://0.0.0.0:8080/db", To: "tcp://127.0.0.1:5432", Line: 3},
		{Name: "files", From: "tcp://0.0.0.0:4300!files", To: "unix:///run/files.sock", MaxConns: 64, IdleTimeout: 5 * time.Minute, Line: 5},
	}
	if len(cfg.Routes) != len(want) {
		t.Fatalf("%d routes, want %d", len(cfg.Routes), len(want))
	}
	for i, r := range cfg.Routes {
		if *r != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, *r, want[i])
		}
	}
}

func TestParseRouteErrors(t *testing.T) {
	for _, tt := range []struct {
		doc      string
		key, msg string
	}{
		{"[routes.a]\nto = \"tcp://h:1\"", "routes.a", "missing from"},
		{"[routes.a]\nfrom = \"tcp://h:1\"", "routes.a", "missing to"},
		{"[routes.a]\nfrom = \"exec:cat\"\nto = \"tcp://h:1\"", "routes.a.from", "can only be dialed"},
		{"[routes.a]\nfrom = \"tcp://h:1\"\nto = \"stdio:\"", "routes.a.to", "cannot use stdio"},
		{"[routes.a]\nfrom = \"tcp://h\"\nto = \"tcp://h:1\"", "routes.a.from", "missing port"},
		{"[routes.a]\nfrom = \"tcp://h:1\"\nto = \"tcp://h:1\"\nmax_conns = -1", "routes.a.max_conns", "out of range"},
		{"[routes.a]\nfrom = \"tcp://h:1\"\nto = \"tcp://h:1\"\nidle_timeout = \"x\"", "routes.a.idle_timeout", "bad duration"},
		{"[routes.a]\nfrom = \"tcp://h:1\"\nto = \"tcp://h:1\"\nmax = 1", "routes.a.max", "unknown key"},
		{"routes = 1", "routes", "want a table"},
	} {
		_, err := config.Parse([]byte(tt.doc), "q.toml")
		var ce *config.Error
		if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) || ce.Key != tt.key || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q) = %v, want an error about %s with %q", tt.doc, err, tt.key, tt.msg)
		}
	}
}
