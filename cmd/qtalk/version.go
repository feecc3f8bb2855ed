package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

var cmdVersion = &command{
	name:    "version",
	summary: "print qtalk's version (also qtalk --version)",
	help: `
Version prints the version of the qtalk module the binary was built from
("(devel)" for a build in its repository), the VCS revision and time when
the build recorded them, and the Go version.`,
	example: `  qtalk version
  qtalk --version`,
}

func runVersion(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdVersion)
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("version: unexpected argument %q", pos[0])
	}
	_, err = fmt.Fprintln(e.stdout, versionLine())
	return err
}

// versionLine returns "qtalk VERSION [REVISION[+dirty] TIME] GOVERSION".
func versionLine() string {
	version, rev, when, dirty := "(unknown)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	line := "qtalk " + version
	if rev != "" {
		if dirty {
			rev += "+dirty"
		}
		line += " " + rev + " " + when
	}
	return line + " " + runtime.Version()
}
