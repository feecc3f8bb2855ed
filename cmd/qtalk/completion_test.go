package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// complete runs the bash completion of words (the last one being
// completed) with the script qtalk prints, and returns the candidates.
func complete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "completion.bash")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	cmd := exec.Command("bash", "-c", `source "$1"; COMP_WORDS=(`+strings.Join(quoted, " ")+`); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _qtalk; printf '%s\n' "${COMPREPLY[@]}"`, "bash", file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash (apt-get install bash): %v", err)
	}
	return strings.Fields(string(out))
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	r := qtalk(t, "", "completion", "bash")
	r.want(t, 0, "completion bash")
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{bin, "se"}, "serve"},
		{[]string{bin, "--v"}, "--version"},
		{[]string{bin, "call", "--cl"}, "--client-cert --client-key"},
		{[]string{bin, "serve", "--met"}, "--metrics"},
	} {
		if got := strings.Join(complete(t, r.stdout, tc.words...), " "); got != tc.want {
			t.Errorf("completing %q: %q, want %q", tc.words[1:], got, tc.want)
		}
	}
	z := qtalk(t, "", "completion", "zsh")
	z.want(t, 0, "completion zsh")
	if !strings.Contains(z.stdout, "bashcompinit") || !strings.HasSuffix(z.stdout, r.stdout) {
		t.Errorf("the zsh script does not load the bash one through bashcompinit:\n%s", z.stdout)
	}
	qtalk(t, "", "completion", "fish").want(t, 2, "completion of an unknown shell")
}
