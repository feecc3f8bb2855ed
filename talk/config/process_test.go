package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/talk/config"
)

// Process services (exec: providers and src) get the process settings,
// with their defaults; src takes both spellings of a pinned version.
func TestParseProcess(t *testing.T) {
	cfg, err := config.Parse([]byte(`
cache_dir = "cache"
[services]
worker = { provider = "exec:./worker", start = "startup", stop_timeout = "2s", ping_interval = "1s", ping_timeout = "3s" }
chat = { src = "example.net/chat#v1.0.2" }
other = { src = "example.net/other@v0.0.0-20260101000000-abcdefabcdef", service = "o", ping_interval = "0s" }
guild = { provider = "tcp://h:1" }
`), "dir/q.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CacheDir != "dir/cache" {
		t.Errorf("CacheDir = %q, want dir/cache", cfg.CacheDir)
	}
	w := cfg.Services["worker"]
	if want := (config.Process{Start: config.StartStartup, StopTimeout: 2 * time.Second, PingInterval: time.Second, PingTimeout: 3 * time.Second}); w.Process != want || !w.IsProcess() {
		t.Errorf("worker: %+v (process %v), want %+v", w.Process, w.IsProcess(), want)
	}
	c := cfg.Services["chat"]
	if c.Src != "example.net/chat@v1.0.2" || c.Provider != "src:example.net/chat@v1.0.2" || c.Service != "chat" || !c.IsProcess() {
		t.Errorf("chat: src %q, provider %q, service %q", c.Src, c.Provider, c.Service)
	}
	if want := (config.Process{Start: config.StartOnDemand, StopTimeout: config.DefaultStopTimeout, PingInterval: config.DefaultPingInterval, PingTimeout: config.DefaultPingTimeout}); c.Process != want {
		t.Errorf("chat: %+v, want the defaults %+v", c.Process, want)
	}
	if o := cfg.Services["other"]; o.Service != "o" || o.Src != "example.net/other@v0.0.0-20260101000000-abcdefabcdef" || o.Process.PingInterval != 0 {
		t.Errorf("other: %+v", o)
	}
	if g := cfg.Services["guild"]; g.IsProcess() || g.Process != (config.Process{}) {
		t.Errorf("guild: %+v is no process", g.Process)
	}
}

func TestParseProcessErrors(t *testing.T) {
	for _, tt := range []struct{ name, doc, key, msg string }{
		{"latest", `chat = { src = "example.net/chat@latest" }`, "services.chat.src", `version "latest" is not pinned`},
		{"branch", `chat = { src = "example.net/chat#main" }`, "services.chat.src", "not pinned"},
		{"no version", `chat = { src = "example.net/chat" }`, "services.chat.src", "want module/path@version"},
		{"range", `chat = { src = "example.net/chat@>=v1.0.0" }`, "services.chat.src", "not pinned"},
		{"short", `chat = { src = "example.net/chat@v1.2" }`, "services.chat.src", "not pinned"},
		{"path", `chat = { src = "./chat@v1.0.0" }`, "services.chat.src", "bad module path"},
		{"both", `chat = { src = "example.net/chat@v1.0.0", provider = "exec:x" }`, "services.chat.src", "either src or provider"},
		{"src host", `chat = { src = "example.net/chat@v1.0.0", host = "h" }`, "services.chat.host", "does not take host"},
		{"tcp start", `chat = { provider = "tcp://h:1", start = "startup" }`, "services.chat.start", "only process services"},
		{"local ping", `chat = { provider = "local", module = "m", ping_interval = "1s" }`, "services.chat.ping_interval", "only process services"},
		{"bad start", `chat = { provider = "exec:x", start = "now" }`, "services.chat.start", `bad start "now"`},
		{"bad stop", `chat = { provider = "exec:x", stop_timeout = "0s" }`, "services.chat.stop_timeout", "out of range"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte("[services]\n"+tt.doc), "q.toml")
			var ce *config.Error
			if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Parse = %v, want a *config.Error", err)
			}
			if ce.Key != tt.key || ce.Line != 2 || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q: key %q line %d; want key %q line 2, message with %q", err, ce.Key, ce.Line, tt.key, tt.msg)
			}
		})
	}
}
