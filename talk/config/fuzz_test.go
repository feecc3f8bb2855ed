package config_test

import (
	"errors"
	"testing"

	"github.com/qtalkkit/qtalk/talk/config"
)

// FuzzParse checks that Parse never panics, and that it either returns a
// config whose services are consistent or an *Error matching ErrInvalid.
func FuzzParse(f *testing.F) {
	f.Add(full)
	for _, doc := range []string{
		"", "listen = [\n\"a\"\nx", "[limits]\nreconnect_min = \"2s\"\nreconnect_max = \"1s\"",
		"[services]\nguild = \"tcp://h:1\"", "[services.guild]\nprovider = \"tcp://h:1\"\n[services.guild.breaker]\nfailure = 1",
		"[[services]]\nx = 1", "limits = [{ max_calls = 1 }]", "[services.a]\nprovider = \"tcp://h:1!b\"\nfallback = \"a\"",
	} {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := config.Parse([]byte(doc), "f.toml")
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) || ce.File != "f.toml" {
				t.Fatalf("Parse error %v (%T), want a *config.Error for f.toml matching ErrInvalid", err, err)
			}
			return
		}
		for name, s := range cfg.Services {
			if s.Name != name || s.Provider == "" {
				t.Fatalf("service %q = %+v", name, s)
			}
			if s.Fallback != "" && cfg.Services[s.Fallback] == nil {
				t.Fatalf("service %q falls back to %q, which is not configured", name, s.Fallback)
			}
		}
	})
}
