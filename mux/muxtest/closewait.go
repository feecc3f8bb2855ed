package muxtest

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// testCloseWaits checks that Close returns only once the session's own
// goroutines have exited (mux.Session.Close): with both sessions busy (a
// Read pending on each side, a Write in flight), once a.Close and b.Close
// have returned, no goroutine but the test's own runs code of the
// implementation's package. Goroutines of the packages it uses (a QUIC
// stack, timers) are not the session's own and are not counted.
func testCloseWaits(t *testing.T, a, b mux.Session) {
	pkgs := packagesOf(reflect.ValueOf(a))
	if len(pkgs) == 0 {
		t.Fatalf("cannot tell the package of %T", a)
	}
	ra, rb := pair(t, a, b)
	readA, readB := readAsync(ra), readAsync(rb)
	_, wa := pair(t, b, a) // b never reads its end
	w := startPatternWriter(wa, blockLimit)
	w.waitStalled(t)

	noErr(t, a.Close(), "Close")
	noErr(t, b.Close(), "Close of the peer")
	if left := goroutinesIn(pkgs); len(left) > 0 {
		t.Errorf("%d goroutines in %s still run after Close returned on both sessions:\n\n%s",
			len(left), strings.Join(pkgs, ", "), strings.Join(left, "\n\n"))
	}
	recv(t, readA, "pending Read after Close")
	recv(t, readB, "the peer's pending Read after Close")
	recv(t, w.done, "blocked Write after Close")
}

// packagesOf returns the package of the session v and of the values it
// embeds, so that a wrapper (a test's own type embedding the real session)
// leads to the implementation.
func packagesOf(v reflect.Value) []string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	var pkgs []string
	if p := v.Type().PkgPath(); p != "" {
		pkgs = append(pkgs, p)
	}
	if v.Kind() == reflect.Struct {
		for i := range v.NumField() {
			if v.Type().Field(i).Anonymous {
				pkgs = append(pkgs, packagesOf(v.Field(i))...)
			}
		}
	}
	return pkgs
}

// goroutinesIn returns the stacks of the goroutines that run, or were
// started by, a function of one of pkgs, except the test's own and those
// returning from their first function once done (see exiting).
func goroutinesIn(pkgs []string) []string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		// The first is this goroutine. The testing package's (a TestMain
		// in the implementation's package) and this package's (a Read
		// the Close unblocked, on its way out) are the test's.
		test := i == 0 || strings.Contains(g, "\ntesting.") || strings.Contains(g, "\ncreated by "+suitePackage+".")
		if !test && inPackages(g, pkgs) && !exiting(g) {
			found = append(found, g)
		}
	}
	return found
}

// suitePackage is the import path of this package.
var suitePackage = reflect.TypeOf(testCase{}).PkgPath()

// inPackages reports whether a goroutine's stack names a function of one
// of pkgs, as a frame or as its creator.
func inPackages(stack string, pkgs []string) bool {
	for _, line := range strings.Split(stack, "\n") {
		line = strings.TrimPrefix(line, "created by ")
		for _, p := range pkgs {
			if strings.HasPrefix(line, p+".") {
				return true
			}
		}
	}
	return false
}

// exiting reports whether a goroutine is runnable with nothing left on its
// stack but its first function (and its closures) and the WaitGroup it
// tells it is done, or nothing but the runtime's exit once that function
// returned: it has done its work and signalled so, and only its return is
// left, which Close cannot wait for. The frames of an asynchronous
// preemption, which may stop it anywhere on that way, do not count. A
// goroutine blocked, or running anything else, is not exiting.
func exiting(stack string) bool {
	header, rest, _ := strings.Cut(stack, "\n")
	if !strings.Contains(header, "[runnable]") && !strings.Contains(header, "[running]") {
		return false
	}
	rest, _, _ = strings.Cut(rest, "created by ")
	var funcs []string
	for _, line := range strings.Split(rest, "\n") {
		f := line[:max(strings.LastIndex(line, "("), 0)]
		if line != "" && !strings.HasPrefix(line, "\t") && !strings.HasPrefix(f, "runtime.goexit") && !strings.HasPrefix(f, "runtime.asyncPreempt") {
			funcs = append(funcs, f)
		}
	}
	if len(funcs) == 0 {
		return true // returned: the runtime's goexit frames only
	}
	entry := funcs[len(funcs)-1]
	for _, f := range funcs {
		if f != entry && !strings.HasPrefix(f, entry+".") && f != "sync.(*WaitGroup).Done" && f != "sync.(*WaitGroup).Add" {
			return false
		}
	}
	return true
}
