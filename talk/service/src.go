package service

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// buildTimeout bounds building the program of a service from source;
// maxBuildError bounds the build output an error quotes.
const (
	buildTimeout  = 10 * time.Minute
	maxBuildError = 1 << 10
)

// srcDir returns the directory of the programs built for src
// (module/path@version) in the cache: CacheDir/src/module/path@version.
func (s *Server) srcDir(src string) (string, error) {
	dir := s.state.Load().cfg.CacheDir
	if dir == "" {
		user, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache_dir, and %w", err)
		}
		dir = filepath.Join(user, "qtalk")
	}
	return filepath.Join(dir, "src", filepath.FromSlash(src)), nil
}

// buildSrc returns the program of the service name built from src
// (module/path@version), building it with `go install src` (GOBIN in the
// cache) unless the cache has it. The go command runs with the server's
// environment: GOPROXY, GOFLAGS, GOSUMDB and the rest apply. A build that
// fails is not cached; its error matches ErrBuildFailed and says why in
// one line.
func (s *Server) buildSrc(ctx context.Context, log *slog.Logger, name, src string) (string, error) {
	dir, err := s.srcDir(src)
	if err != nil {
		return "", fmt.Errorf("%w: service %s: %s: %w", ErrBuildFailed, name, src, err)
	}
	if bin, err := program(dir); err == nil {
		log.Debug("using cached build", "src", src, "program", bin)
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("%w: service %s: %s: %w", ErrBuildFailed, name, src, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return "", fmt.Errorf("%w: service %s: %s: %w", ErrBuildFailed, name, src, err)
	}
	defer os.RemoveAll(tmp) // once renamed, nothing
	log.Info("building", "src", src)
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", src)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	cmd.Dir = tmp // not in a module of the server's working directory
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: service %s: go install %s: %s", ErrBuildFailed, name, src, oneLine(out.String(), err))
	}
	if _, err := program(tmp); err != nil {
		return "", fmt.Errorf("%w: service %s: go install %s: %w", ErrBuildFailed, name, src, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if bin, perr := program(dir); perr == nil { // built meanwhile by another service of the same src
			return bin, nil
		}
		return "", fmt.Errorf("%w: service %s: %s: %w", ErrBuildFailed, name, src, err)
	}
	bin, err := program(dir)
	if err != nil {
		return "", fmt.Errorf("%w: service %s: %s: %w", ErrBuildFailed, name, src, err)
	}
	log.Info("built", "src", src, "program", bin, "took", time.Since(start).Round(time.Millisecond))
	return bin, nil
}

// program returns the one program in dir.
func program(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(entries) != 1 || !entries[0].Type().IsRegular() {
		return "", fmt.Errorf("%s holds %d files, want one program", dir, len(entries))
	}
	return filepath.Join(dir, entries[0].Name()), nil
}

// oneLine makes the output of a failed go command one line: its lines
// joined with "; ", bounded, or else err.
func oneLine(out string, err error) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return err.Error()
	}
	s := strings.Join(lines, "; ")
	if len(s) > maxBuildError {
		s = s[:maxBuildError] + "..."
	}
	return s
}
