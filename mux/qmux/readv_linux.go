package qmux

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// newVectorReader returns a vectorReader for a socket (see socketOf), nil
// if raw is nil.
func newVectorReader(raw syscall.RawConn) vectorReader {
	if raw == nil {
		return nil
	}
	v := &readvConn{raw: raw}
	v.fn = v.readFD
	return v
}

// readvConn reads from a socket with the readv system call.
type readvConn struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool // v.readFD, bound once so that reads do not allocate

	// The arguments and results of readFD.
	iov   [3]syscall.Iovec
	niov  int
	wait  bool
	n     int
	errno syscall.Errno
	again bool // nothing had arrived, and wait was false
}

func (v *readvConn) read(wait bool, a, b, c []byte) (int, error) {
	v.niov, v.wait = 0, wait
	for _, p := range [...][]byte{a, b, c} {
		if len(p) > 0 {
			v.iov[v.niov] = syscall.Iovec{Base: &p[0]}
			v.iov[v.niov].SetLen(len(p))
			v.niov++
		}
	}
	err := v.raw.Read(v.fn)
	v.iov = [3]syscall.Iovec{} // drop the references to the buffers
	switch {
	case err != nil:
		return 0, err
	case v.again:
		return 0, nil
	case v.errno != 0:
		return 0, os.NewSyscallError("readv", v.errno)
	case v.n == 0:
		return 0, io.EOF
	}
	return v.n, nil
}

// readFD is the raw read. Reporting false makes the runtime wait until the
// socket is readable and call it again.
//
// The socket is non-blocking, so readv returns at once: RawSyscall skips the
// scheduler's entersyscall/exitsyscall, which Syscall pays on every read and
// which lets sysmon hand the P to another thread (waking one) when the
// reader was preempted there.
func (v *readvConn) readFD(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&v.iov[0])), uintptr(v.niov))
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN && v.wait:
			return false
		}
		v.n, v.errno, v.again = 0, errno, errno == syscall.EAGAIN
		if errno == 0 {
			v.n = int(n)
		}
		return true
	}
}
