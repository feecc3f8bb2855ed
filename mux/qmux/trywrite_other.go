//go:build !linux

package qmux

import "io"

// newTryWriter returns nil: writes without waiting are implemented on
// Linux only. Elsewhere the writer goroutine does every write.
func newTryWriter(io.Writer) tryWriter { return nil }
