package main

import (
	"context"
	"fmt"
	"strings"
)

var cmdCompletion = &command{
	name:    "completion",
	args:    "bash|zsh",
	summary: "print a shell completion script for bash or zsh",
	help: `
Completion prints a script that completes qtalk's commands, and their
flags as each command's --help lists them, in bash or zsh. Load it from
your shell's startup file.`,
	example: `  source <(qtalk completion bash)      # in ~/.bashrc
  source <(qtalk completion zsh)       # in ~/.zshrc`,
}

// bashCompletion completes the command names, then the flags the
// command's --help lists, then file names. %s is the command names.
const bashCompletion = `_qtalk() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "%s --help --version" -- "$cur"))
	elif [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "${COMP_WORDS[1]}" --help 2>/dev/null | sed -n 's/^  \(--*[a-z][a-z-]*\).*/\1/p')" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _qtalk qtalk
`

func runCompletion(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdCompletion)
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("completion: want bash or zsh, got %d arguments", len(pos))
	}
	script := fmt.Sprintf(bashCompletion, strings.ReplaceAll(commandNames(), ",", ""))
	switch pos[0] {
	case "bash":
	case "zsh":
		// zsh runs bash completion functions through bashcompinit.
		script = "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n" + script
	default:
		return usageErrorf("completion: unknown shell %q (want bash or zsh)", pos[0])
	}
	_, err = fmt.Fprint(e.stdout, script)
	return err
}
