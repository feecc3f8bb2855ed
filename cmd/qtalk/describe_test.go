package main_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestDescribe describes labels of the built-in server: fn handlers with
// their types, and one-line errors for the others.
func TestDescribe(t *testing.T) {
	t.Parallel()
	s := serve(t)
	for label, want := range map[string]string{
		"chat:send":      "chat:send(string, string) (demo.Message, error)\n",
		"chat:history":   "chat:history() []demo.Message\n",
		"chat:subscribe": "chat:subscribe(string) (stream demo.Event, error)\n",
		"kv:set?x=1":     "kv:set?x=1(string, any) error\n",
	} {
		r := qtalk(t, "", "describe", s.tcp, label)
		r.want(t, 0, "describe "+label)
		if r.stdout != want {
			t.Errorf("describe %s printed %q, want %q", label, r.stdout, want)
		}
	}
	r := qtalk(t, "", "describe", "--json", s.ws, "kv:get")
	r.want(t, 0, "describe --json kv:get")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("describe --json printed %q: %v", r.stdout, err)
	}
	if want := map[string]any{"args": []any{"string"}, "results": []any{"any"}, "error": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("describe --json kv:get = %v, want %v", got, want)
	}
	for _, tt := range []struct {
		label, stderr string
		code          int
	}{
		{"echo:echo", `qtalk: describe echo:echo: failed_precondition: qtalk:describe: the handler of "echo:echo" was not made by package fn: its types are not known` + "\n", 19},
		{"chat:nope", `qtalk: describe chat:nope: not_found: qtalk:describe: no handler for "chat:nope"` + "\n", 15},
		{"nope:x", `qtalk: describe nope:x: not_found: no service "nope" for "nope:x"` + "\n", 15},
		{"nolabel", "", 2},
	} {
		r := qtalk(t, "", "describe", s.tcp, tt.label)
		r.want(t, tt.code, "describe "+tt.label)
		if tt.stderr != "" && r.stderr != tt.stderr || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
			t.Errorf("describe %s: want stderr %q\n%s", tt.label, tt.stderr, r)
		}
	}
}
