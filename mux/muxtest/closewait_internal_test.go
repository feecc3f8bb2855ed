package muxtest

import "testing"

// TestExiting checks which goroutines left after Close are taken for ones
// on their way out, with stacks as runtime.Stack prints them (the file
// lines, which exiting does not read, with GOROOT and QTALK for the
// directories).
func TestExiting(t *testing.T) {
	for _, c := range []struct {
		name  string
		stack string
		want  bool
	}{
		{"returned, in the runtime's exit", `goroutine 28162 [runnable]:
runtime.goexit1()
	GOROOT/src/runtime/proc.go:4475 +0x9b
runtime.goexit({})
	GOROOT/src/runtime/asm_amd64.s:1772 +0x6
created by github.com/qtalkkit/qtalk/mux/qmux.New in goroutine 28159
	QTALK/mux/qmux/session.go:140 +0x8fb`, true},
		{"telling its WaitGroup it is done", `goroutine 7 [runnable]:
sync.(*WaitGroup).Done(...)
	GOROOT/src/sync/waitgroup.go:110
github.com/qtalkkit/qtalk/mux/qmux.(*Session).readLoop(0xc000100000)
	QTALK/mux/qmux/reader.go:28 +0x1a5
created by github.com/qtalkkit/qtalk/mux/qmux.New in goroutine 6
	QTALK/mux/qmux/session.go:140 +0x8fb`, true},
		{"preempted on its way out", `goroutine 40024 [runnable]:
runtime.asyncPreempt2()
	GOROOT/src/runtime/preempt.go:320 +0x14
runtime.asyncPreempt()
	GOROOT/src/runtime/preempt_amd64.s:124 +0x28b
github.com/qtalkkit/qtalk/mux/qmux.New.gowrap1()
	QTALK/mux/qmux/session.go:153 +0x1b
runtime.goexit({})
	GOROOT/src/runtime/asm_amd64.s:1771 +0x1
created by github.com/qtalkkit/qtalk/mux/qmux.New in goroutine 40023
	QTALK/mux/qmux/session.go:153 +0x97d`, true},
		{"preempted running something else", `goroutine 7 [runnable]:
runtime.asyncPreempt2()
	GOROOT/src/runtime/preempt.go:320 +0x14
runtime.asyncPreempt()
	GOROOT/src/runtime/preempt_amd64.s:124 +0x28b
github.com/qtalkkit/qtalk/mux/qmux.(*Session).readMessage(0xc000100000)
	QTALK/mux/qmux/reader.go:40 +0x1a5
github.com/qtalkkit/qtalk/mux/qmux.(*Session).readLoop(0xc000100000)
	QTALK/mux/qmux/reader.go:24 +0x1a5
created by github.com/qtalkkit/qtalk/mux/qmux.New in goroutine 6
	QTALK/mux/qmux/session.go:140 +0x8fb`, false},
		{"running something else", `goroutine 7 [runnable]:
github.com/qtalkkit/qtalk/mux/qmux.(*Session).readMessage(0xc000100000)
	QTALK/mux/qmux/reader.go:40 +0x1a5
github.com/qtalkkit/qtalk/mux/qmux.(*Session).readLoop(0xc000100000)
	QTALK/mux/qmux/reader.go:24 +0x1a5
created by github.com/qtalkkit/qtalk/mux/qmux.New in goroutine 6
	QTALK/mux/qmux/session.go:140 +0x8fb`, false},
		{"blocked", `goroutine 7 [IO wait]:
runtime.goexit1()
	GOROOT/src/runtime/proc.go:4475 +0x9b
created by github.com/qtalkkit/qtalk/mux/qmux.New in goroutine 6
	QTALK/mux/qmux/session.go:140 +0x8fb`, false},
	} {
		if got := exiting(c.stack); got != c.want {
			t.Errorf("%s: exiting = %v, want %v", c.name, got, c.want)
		}
	}
}
