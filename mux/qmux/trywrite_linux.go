package qmux

import (
	"os"
	"syscall"
)

// newTryWriter returns a tryWriter for a socket (see socketOf), nil if raw
// is nil.
func newTryWriter(raw syscall.RawConn) tryWriter {
	if raw == nil {
		return nil
	}
	t := &rawTryWriter{raw: raw}
	t.fn = t.writeFD
	return t
}

// rawTryWriter writes to a socket with one non-blocking write(2).
type rawTryWriter struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool // t.writeFD, bound once so that writes do not allocate

	// The argument and results of writeFD.
	p     []byte
	n     int
	errno syscall.Errno
}

func (t *rawTryWriter) tryWrite(p []byte) (int, error) {
	t.p = p
	err := t.raw.Write(t.fn)
	t.p = nil
	switch {
	case err != nil:
		return 0, err
	case t.errno == syscall.EAGAIN:
		return t.n, nil
	case t.errno != 0:
		return t.n, os.NewSyscallError("write", t.errno)
	}
	return t.n, nil
}

// writeFD is the raw write. It always reports true: the runtime must not
// wait for the socket to become writable.
func (t *rawTryWriter) writeFD(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), t.p)
		if err == syscall.EINTR {
			continue
		}
		t.n, t.errno = max(n, 0), 0
		if errno, ok := err.(syscall.Errno); ok {
			t.errno = errno
		}
		return true
	}
}
