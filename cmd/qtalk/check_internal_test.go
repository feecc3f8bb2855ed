package main

import (
	"slices"
	"testing"

	"github.com/qtalkkit/qtalk/transport"
)

// The words after "--" reach the command as they were given, whatever
// quotes, blanks or "!" they hold.
func TestCheckTargetWords(t *testing.T) {
	for _, words := range [][]string{
		{"./server", "--stdio"},
		{"./my server", "a b", "tab\there"},
		{"echo", "it's", `say "hi"`, `it's "both"`, `'`, `"`},
		{"echo", "", "x"},
		{"echo", "a!b"},
		{"echo", "a!b", "c"},
	} {
		addr, err := checkTarget(words)
		if err != nil {
			t.Errorf("checkTarget(%q): %v", words, err)
			continue
		}
		a, err := transport.ParseAddress(addr)
		if err != nil {
			t.Errorf("checkTarget(%q) = %q, which does not parse: %v", words, addr, err)
			continue
		}
		got, err := a.Args()
		if err != nil || !slices.Equal(got, words) || a.Subport != "" {
			t.Errorf("checkTarget(%q) = %q: the command is %q (subport %q), %v", words, addr, got, a.Subport, err)
		}
	}
}
