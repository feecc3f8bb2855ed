//go:build browser

package jsinterop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// How to install what the tests need, in their failure messages.
const (
	installNode     = "install Node.js 20+ (apt-get install nodejs npm)"
	installPackages = "run npm ci in js/ (scripts/test does it)"
	installChromium = "apt-get install chromium (scripts/test does it)"
)

// guard bounds each wait for something that must happen: a guard against
// hangs, never a delay that makes a test pass.
const guard = 30 * time.Second

var (
	repoRoot string // the module's root directory, which holds js/
	nodePath string // the node binary
)

func TestMain(m *testing.M) {
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "jsinterop: %v\n", err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

// setup finds the repository, node and the npm packages of js/, and builds
// js/ so that its programs in js/dist are those of its sources.
func setup() error {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("the repository root: %w", err)
	}
	repoRoot = root
	if nodePath, err = exec.LookPath("node"); err != nil {
		return fmt.Errorf("%w: %s", err, installNode)
	}
	if err := checkNodeVersion(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "js", "node_modules")); err != nil {
		return fmt.Errorf("the npm packages of js/ are missing (%w): %s", err, installPackages)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("%w: %s", err, installNode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, npm, "run", "build")
	build.Dir = filepath.Join(root, "js")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("npm run build in js/: %w\n%s", err, out)
	}
	return nil
}

// checkNodeVersion fails for a node older than 20.
func checkNodeVersion() error {
	out, err := exec.Command(nodePath, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %w: %s", nodePath, err, installNode)
	}
	version := strings.TrimSpace(string(out)) // v20.20.2
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < 20 {
		return fmt.Errorf("%s is Node.js %s: %w: %s", nodePath, version, errors.ErrUnsupported, installNode)
	}
	return nil
}
