package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/talk/config"
)

func TestParseTable(t *testing.T) {
	cfg, err := config.Parse([]byte(`[services]
colors = { provider = "table", file = "colors.toml" }`), filepath.Join("etc", "q.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Services["colors"]
	if !s.Local() || s.Module != config.TableModule || s.Options["file"] != filepath.Join("etc", "colors.toml") {
		t.Errorf("table service = %+v, want local, module %s, file etc/colors.toml", s, config.TableModule)
	}
	for _, tt := range []struct{ doc, key, msg string }{
		{"[services.c]\nprovider = \"table\"", "services.c", "missing file"},
		{"[services.c]\nprovider = \"table\"\nfile = \"t.toml\"\nmodule = \"m\"", "services.c.module", "does not take module"},
		{"[services.c]\nprovider = \"table\"\nfile = \"t.toml\"\ntimeout = \"1s\"", "services.c.timeout", "does not take timeout"},
		{"[services.c]\nprovider = \"local\"\nmodule = \"m\"\nfile = \"t.toml\"", "services.c.file", "only table services"},
		{"[services.c]\nprovider = \"table\"\nfile = \"\"", "services.c.file", "empty file name"},
	} {
		_, err := config.Parse([]byte(tt.doc), "q.toml")
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Key != tt.key || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q) = %v, want an error about %s with %q", tt.doc, err, tt.key, tt.msg)
		}
	}
}
