package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/talk/config"
)

// Every qtalk.toml the README shows parses: its grid, its gateway with a
// DNS provider, its services built from source, its routes.
func TestReadmeConfigs(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```toml\n")[1:]
	shown := ""
	for i, b := range blocks {
		text, _, ok := strings.Cut(b, "```")
		if !ok {
			t.Fatalf("toml block %d does not end", i+1)
		}
		if _, err := config.Parse([]byte(text), "README.md"); err != nil {
			t.Errorf("toml block %d of the README: %v\n%s", i+1, err, text)
		}
		shown += text
	}
	for _, want := range []string{"[grid]", `provider = "dns+srv://`, `src = "`, "[routes]"} {
		if !strings.Contains(shown, want) {
			t.Errorf("no toml block of the README has %s", want)
		}
	}
}
