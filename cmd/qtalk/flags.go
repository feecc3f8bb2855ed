package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/qtalkkit/qtalk/internal/logfmt"
)

// flagSet is a command's flags, with those every command has.
type flagSet struct {
	*flag.FlagSet
	cmd       *command
	verbose   bool
	logFormat string
}

// newFlags returns c's flag set with the common flags: -v and
// --log-format. It reports nothing itself: parse does.
func newFlags(c *command) *flagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	f := &flagSet{FlagSet: fs, cmd: c}
	fs.BoolVar(&f.verbose, "v", false, "log debug messages too")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `format` on stderr: text or json")
	return f
}

// errHelpShown is returned by parse after printing the help: the command
// exits with status 0.
var errHelpShown = errors.New("help shown")

// parse parses args, flags and positional arguments mixed (a "--" ends
// the flags), and returns the positional ones. For -h or --help it prints
// the help on e.stdout and returns errHelpShown.
func (f *flagSet) parse(e *env, args []string) ([]string, error) {
	var pos []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, f.cmd.usage(f))
			return nil, errHelpShown
		}
		if err != nil {
			return nil, usageErrorf("%s: %v (see qtalk %s --help)", f.cmd.name, err, f.cmd.name)
		}
		rest := f.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...) // everything after "--" is positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, usageErrorf("%s: --log-format %q: want text or json", f.cmd.name, f.logFormat)
	}
	return pos, nil
}

// logger returns the logger the flags ask for, writing to e.stderr.
func (f *flagSet) logger(e *env) *slog.Logger {
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	if f.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(logfmt.New(e.stderr, &logfmt.Options{Level: level}))
}

// usage returns the help of c: synopsis, description, flags, example.
func (c *command) usage(f *flagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n\n%s\n\nflags:\n", strings.TrimSpace("qtalk "+c.name+" [flags] "+c.args), strings.TrimSpace(c.help))
	f.VisitAll(func(fl *flag.Flag) {
		dash := "--"
		if len(fl.Name) == 1 {
			dash = "-"
		}
		name, usage := flag.UnquoteUsage(fl)
		fmt.Fprintf(&b, "  %s%s", dash, fl.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n        %s", usage)
		switch fl.DefValue {
		case "", "0", "0s", "false", "[]":
		default:
			fmt.Fprintf(&b, " (default %s)", fl.DefValue)
		}
		b.WriteByte('\n')
	})
	fmt.Fprintf(&b, "\nexample:\n%s\n", strings.TrimRight(c.example, "\n"))
	return b.String()
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}
