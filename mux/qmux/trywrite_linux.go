package qmux

import (
	"os"
	"syscall"
	"unsafe"
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
// wait for the socket to become writable. Like readvConn.readFD, it uses
// RawSyscall: the socket is non-blocking, so write(2) never waits.
func (t *rawTryWriter) writeFD(fd uintptr) bool {
	t.n, t.errno = 0, 0
	if len(t.p) == 0 {
		return true
	}
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&t.p[0])), uintptr(len(t.p)))
		if errno == syscall.EINTR {
			continue
		}
		if errno == 0 {
			t.n = int(n)
		}
		t.errno = errno
		return true
	}
}
