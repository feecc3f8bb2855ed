//go:build !linux

package qmux

import "io"

// newVectorReader returns nil: vectored reads are implemented on Linux
// only. Elsewhere payloads are read with plain reads.
func newVectorReader(io.Reader) vectorReader { return nil }
