package config

import (
	"fmt"
	"regexp"
	"strings"
)

// processDefaults fills in the settings of a process service left out;
// interval says whether ping_interval was set (to "0s" for never).
func processDefaults(p Process, interval bool) Process {
	if !interval {
		p.PingInterval = DefaultPingInterval
	}
	if p.Start == "" {
		p.Start = StartOnDemand
	}
	if p.StopTimeout == 0 {
		p.StopTimeout = DefaultStopTimeout
	}
	if p.PingTimeout == 0 {
		p.PingTimeout = DefaultPingTimeout
	}
	return p
}

// semver matches the versions a src may pin: vMAJOR.MINOR.PATCH with an
// optional pre-release and build, pseudo-versions included.
var semver = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// ParseSrc parses the src of a service built from source,
// "module/path@version" or "module/path#version", and returns it as
// "module/path@version". The version must be pinned: a semantic version
// such as v1.0.2 (or a pseudo-version), not a query such as latest, a
// branch or a range.
func ParseSrc(src string) (string, error) {
	i := strings.LastIndexAny(src, "@#")
	if i < 0 {
		return "", fmt.Errorf("bad src %q: want module/path@version, such as example.net/chat@v1.0.2", src)
	}
	path, version := src[:i], src[i+1:]
	if path == "" || strings.ContainsAny(path, " \t\n@#\\") || strings.HasPrefix(path, "/") || strings.HasPrefix(path, ".") {
		return "", fmt.Errorf("bad src %q: bad module path %q", src, path)
	}
	if !semver.MatchString(version) {
		return "", fmt.Errorf("bad src %q: version %q is not pinned (want a version such as v1.0.2, not latest or a branch)", src, version)
	}
	return path + "@" + version, nil
}
