//go:build !linux

package qmux

import "syscall"

// newTryWriter returns nil: writes without waiting are implemented on
// Linux only. Elsewhere the writer goroutine does every write.
func newTryWriter(syscall.RawConn) tryWriter { return nil }
