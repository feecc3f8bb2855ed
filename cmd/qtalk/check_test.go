package main_test

import (
	"regexp"
	"testing"
)

// A server without the check protocol gets one line and exit status 3,
// not a FAIL per case.
func TestCheckNoProtocol(t *testing.T) {
	t.Parallel()
	s := serveArgs(t, "serve", "--config", writeConfig(t, `
listen = ["tcp://127.0.0.1:0", "ws://127.0.0.1:0/qtalk"]
[services]
echo = { provider = "local", module = "github.com/qtalkkit/qtalk/internal/demo/echo" }
`))
	r := qtalk(t, "", "check", s.tcp)
	r.want(t, 3, "check of a server without the check protocol")
	want := regexp.MustCompile(`^qtalk: check: the server at \S+ does not serve the check protocol \(check:echo is not served: not_found\)\n$`)
	if !want.MatchString(r.stderr) || r.stdout != "" {
		t.Errorf("stdout %q, stderr %q; want nothing and one line matching %s", r.stdout, r.stderr, want)
	}
}
