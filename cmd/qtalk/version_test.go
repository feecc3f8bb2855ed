package main_test

import (
	"encoding/json"
	"regexp"
	"runtime"
	"slices"
	"strings"
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
	var entries []struct{ Label, Module, Version string }
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatalf("ls --json printed %q: %v", r.stdout, err)
	}
	i := slices.IndexFunc(entries, func(e struct{ Label, Module, Version string }) bool { return e.Label == "echo:echo" })
	if i < 0 || !strings.HasPrefix(entries[i].Module, "github.com/qtalkkit/qtalk") || r.stdout[len(r.stdout)-1] != '\n' || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("ls --json printed %q, want a JSON array on one line with echo:echo and its module", r.stdout)
	}
	if j := slices.IndexFunc(entries, func(e struct{ Label, Module, Version string }) bool { return e.Label == "qtalk:ping" }); j < 0 || entries[j].Module != "" {
		t.Errorf("ls --json printed %q, want qtalk:ping without a source", r.stdout)
	}
}
