package main_test

import (
	"encoding/json"
	"regexp"
	"runtime"
	"slices"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	a := qtalk(t, "", "--version")
	a.want(t, 0, "qtalk --version")
	b := qtalk(t, "", "version")
	b.want(t, 0, "qtalk version")
	want := regexp.MustCompile(`^qtalk \S+ (\S+ \S+ )?` + regexp.QuoteMeta(runtime.Version()) + "\n$")
	if !want.MatchString(a.stdout) || a.stdout != b.stdout || a.stderr != "" {
		t.Errorf("qtalk --version printed %q, qtalk version %q; want one line matching %s", a.stdout, b.stdout, want)
	}
}

func TestLsJSON(t *testing.T) {
	t.Parallel()
	s := serve(t)
	r := qtalk(t, "", "ls", "--json", s.tcp)
	r.want(t, 0, "ls --json")
	var labels []string
	if err := json.Unmarshal([]byte(r.stdout), &labels); err != nil {
		t.Fatalf("ls --json printed %q: %v", r.stdout, err)
	}
	if !slices.Contains(labels, "echo:echo") || r.stdout[len(r.stdout)-1] != '\n' {
		t.Errorf("ls --json printed %q, want a JSON array with echo:echo on one line", r.stdout)
	}
}
