package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// demoConfig mounts the built-in services as modules.
const demoConfig = `
listen = ["tcp://127.0.0.1:0", "ws://127.0.0.1:0/qtalk"]

[services]
echo  = { provider = "local", module = "github.com/qtalkkit/qtalk/internal/demo/echo" }
chat  = { provider = "local", module = "github.com/qtalkkit/qtalk/internal/demo/chat" }
kv    = { provider = "local", module = "github.com/qtalkkit/qtalk/internal/demo/kv" }
check = { provider = "local", module = "github.com/qtalkkit/qtalk/internal/check" }
pubsub = { provider = "local", module = "github.com/qtalkkit/qtalk/pubsub" }
`

// writeConfig writes a config file for the test and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qtalk.toml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A config that mounts the built-in modules serves what the built-in
// server serves, and the built-in labels of package service.
func TestServeConfig(t *testing.T) {
	t.Parallel()
	s := serveArgs(t, "serve", "--config", writeConfig(t, demoConfig))

	r := qtalk(t, "", "ls", s.tcp)
	r.want(t, 0, "ls")
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, l := range wantLabels {
		if !slices.Contains(got, l) {
			t.Errorf("ls printed %q, which lacks %s", got, l)
		}
	}
	r = qtalk(t, "", "call", s.ws, "echo:echo", `"over a config"`)
	r.want(t, 0, "echo:echo")
	if r.stdout != `"over a config"`+"\n" {
		t.Errorf("echo:echo printed %q", r.stdout)
	}
	checkPasses(t, s.tcp)

	// The chat module's messages are events of the service chat.
	sub := startStream(t, "call", "--timeout", "10s", s.tcp, "qtalk:subscribe", `"chat"`)
	if line := sub.next(t); line != `{"name":"chat/open"}` {
		t.Fatalf("first event %s, want chat/open", line)
	}
	qtalk(t, "", "call", s.tcp, "chat:send", `["alice", "evented"]`).want(t, 0, "chat:send")
	if line := sub.next(t); !regexp.MustCompile(`^\{"name":"chat/message","param":\{"type":"message","user":"alice",.*"text":"evented"`).MatchString(line) {
		t.Errorf("second event %s, want chat/message with alice's message", line)
	}
}

func TestServeBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		config string
		stderr string // a regexp of the one line of stderr
	}{
		{`listen = ["tcp://127.0.0.1:0"]` + "\n[services]\nx = { provider = \"local\", modul = \"m\" }\n",
			`qtalk: serve: .*qtalk\.toml:3: services\.x\.modul: unknown key .*`},
		{`listen = ["tcp://127.0.0.1:0"]` + "\n[services]\nx = { provider = \"local\", module = \"example.net/nope\" }\n",
			`qtalk: serve: .*qtalk\.toml:3: services\.x\.module: .*"example\.net/nope".*`},
		{"listen = [", `qtalk: serve: .*qtalk\.toml:1: .*`},
		{"[services]\n", `qtalk: serve: .*qtalk\.toml lists no addresses to listen on \(add listen = \["tcp://127\.0\.0\.1:4242"\]\)`},
	} {
		r := qtalk(t, "", "serve", "--config", writeConfig(t, tc.config))
		r.want(t, 2, "serve with a bad config")
		if !regexp.MustCompile(`^` + tc.stderr + `\n$`).MatchString(r.stderr) {
			t.Errorf("serve with config %q printed %q on stderr, want one line matching %q", tc.config, r.stderr, tc.stderr)
		}
	}
}

// The built-in server and a config that mounts the same modules are one
// server: the same labels, routed as spec/labels.md says (parameters
// ignored, a host no upstream has refused with permission_denied, the
// built-in labels served), and the same log lines.
func TestServeOneServer(t *testing.T) {
	t.Parallel()
	servers := map[string]*server{
		"built-in": serve(t, "-v"),
		"config":   serveArgs(t, "serve", "-v", "--config", writeConfig(t, demoConfig)),
	}
	ls := map[string]string{}
	for name, s := range servers {
		r := qtalk(t, "", "ls", s.tcp)
		r.want(t, 0, name+": ls")
		ls[name] = r.stdout
		for _, tc := range []struct {
			args   []string
			code   int
			stdout string // the whole of stdout, or of stderr if code is not 0
		}{
			{[]string{"check:echo?x=1", `"with a parameter"`}, 0, `"with a parameter"`},
			{[]string{"echo:echo?a=b&c=d", `7`}, 0, `7`},
			{[]string{"example.net/echo:echo", `1`}, 17, `qtalk: call example.net/echo:echo: permission_denied: .*`},
			{[]string{"qtalk:services"}, 0, `\[\{"name":"chat","provider":"local","module":"github\.com/qtalkkit/qtalk/internal/demo/chat","open":true\},.*\]`},
			{[]string{"qtalk:ping"}, 0, `.*`},
			{[]string{"qtalk:nope"}, 15, `qtalk: call qtalk:nope: not_found: .*`},
		} {
			args := append([]string{"call", s.tcp}, tc.args...)
			r := qtalk(t, "", args...)
			r.want(t, tc.code, fmt.Sprintf("%s: qtalk %q", name, args[1:]))
			out := r.stdout
			if tc.code != 0 {
				out = r.stderr
			}
			if !regexp.MustCompile(`^` + tc.stdout + `\n$`).MatchString(out) {
				t.Errorf("%s: qtalk %q printed %q, want a line matching %q", name, args[1:], out, tc.stdout)
			}
		}
		for _, re := range []string{
			`^\[.* INFO listener/1\] listening addr=tcp://127\.0\.0\.1:\d+$`,
			`^\[.* INFO listener/2\] listening addr=ws://127\.0\.0\.1:\d+/qtalk$`,
			`^\[.* INFO session/\d+\] session opened remote=127\.0\.0\.1:\d+ listener=1$`,
			`^\[.* DEBUG session/\d+\] call selector="check:echo\?x=1" code=ok continued=false duration=\S+$`,
			`^\[.* INFO session/\d+\] session closed reason="peer closed" duration=\S+ error=".*EOF"$`,
		} {
			s.waitLog(t, re)
		}
	}
	if ls["built-in"] != ls["config"] {
		t.Errorf("ls printed\n%s for the built-in server and\n%s for the config", ls["built-in"], ls["config"])
	}
}
