//go:build !linux

package qmux

import "syscall"

// newVectorReader returns nil: vectored reads are implemented on Linux
// only. Elsewhere payloads are read with plain reads.
func newVectorReader(syscall.RawConn) vectorReader { return nil }
