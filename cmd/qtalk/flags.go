package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
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

// A byteSize is a flag for a size in bytes: a number of bytes, or a number
// followed by a unit: B, KiB, MiB or GiB (powers of 1024), kB, MB or GB
// (powers of 1000). The number is an integer, or a decimal that gives a
// whole number of bytes: 1.5KiB is 1536.
type byteSize int64

// sizeUnits are the units a byteSize accepts, with their factors.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9,
}

func (s *byteSize) String() string { return formatSize(int64(*s)) }

func (s *byteSize) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = byteSize(n)
	return nil
}

// parseSize parses a size as a byteSize flag takes it.
func parseSize(v string) (int64, error) {
	num := strings.TrimSpace(v)
	i := strings.LastIndexFunc(num, func(r rune) bool { return r >= '0' && r <= '9' || r == '.' })
	unit := strings.TrimSpace(num[i+1:])
	num = num[:i+1]
	factor, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q in size %q (want B, KiB, MiB, GiB, kB, MB or GB)", unit, v)
	}
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("size %q: want a number of bytes such as 4096 or 4KiB", v)
	}
	w, err := strconv.ParseInt("0"+whole, 10, 64)
	if err != nil || strings.Trim(frac, "0123456789") != "" || len(frac) > 9 {
		return 0, fmt.Errorf("size %q: want a number of bytes such as 4096 or 4KiB", v)
	}
	const limit = 1 << 50 // far beyond any size a command takes
	if w > limit/factor {
		return 0, fmt.Errorf("size %q is too large", v)
	}
	n := w * factor
	if frac != "" {
		// frac/10^len(frac) * factor must be whole; with at most 9
		// decimals and factor at most 1<<30, f*factor fits.
		f, _ := strconv.ParseInt(frac, 10, 64)
		den := int64(1)
		for range frac {
			den *= 10
		}
		if f*factor%den != 0 {
			return 0, fmt.Errorf("size %q is not a whole number of bytes", v)
		}
		n += f * factor / den
	}
	return n, nil
}

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name   string
		factor int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
