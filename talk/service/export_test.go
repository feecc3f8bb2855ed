package service

import (
	"runtime/debug"
	"time"
)

// SetClock sets the clock of the circuit breakers of s. It must be called
// before s serves calls.
func SetClock(s *Server, now func() time.Time) { s.now.Store(&now) }

// SetBuildInfo makes the servers read bi as their build info, until the
// function returned restores it.
func SetBuildInfo(bi *debug.BuildInfo) (restore func()) {
	old := readBuildInfo
	readBuildInfo = func() (*debug.BuildInfo, bool) { return bi, true }
	return func() { readBuildInfo = old }
}

// EndReason is endReason, for the tests.
var EndReason = endReason
