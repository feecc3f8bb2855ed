package qmux

import (
	"io"
	"sync/atomic"
)

// readBufferSize is the size of the reader's buffer, which holds message
// headers and small payloads. Large payloads are read straight into their
// channel's ring, so a larger buffer would only add a copy.
const readBufferSize = 4 << 10

// An input buffers what the reader goroutine reads from the connection.
// Headers come out of its buffer; payloads go straight where they belong
// (a channel's ring, or the buffer of a Read waiting for them) once the
// buffered bytes are used. Where the connection supports
// vectored reads, the system call that completes a payload also fills the
// buffer with what follows, so a bulk transfer takes one read per message.
type input struct {
	conn io.Reader
	vr   vectorReader // nil when conn has no vectored reads
	buf  []byte
	r, w int   // buf[r:w] is buffered
	err  error // the connection's error, returned once buf is drained

	// bytes counts what was read from the connection; written by the
	// reader goroutine, read by Session.BytesTransferred.
	bytes atomic.Uint64
}

func newInput(conn io.Reader, vr vectorReader) *input {
	return &input{conn: conn, vr: vr, buf: make([]byte, readBufferSize)}
}

// A vectorReader reads into several buffers with one system call, filling
// a, b and c in turn (any may be empty). If wait is true it waits until
// something has arrived; otherwise it returns 0 at once if nothing has. It
// returns io.EOF at the end of the stream.
type vectorReader interface {
	read(wait bool, a, b, c []byte) (int, error)
}

// fill reads into the empty buffer.
func (in *input) fill() error {
	if in.err != nil {
		return in.err
	}
	in.r, in.w = 0, 0
	for range maxEmptyReads {
		n, err := in.conn.Read(in.buf)
		in.bytes.Add(uint64(n))
		in.w = n
		if err != nil {
			in.err = err
			if n == 0 {
				return err
			}
		}
		if n > 0 {
			return nil
		}
	}
	in.err = io.ErrNoProgress
	return in.err
}

// maxEmptyReads bounds the reads in a row that return nothing and no
// error, as in bufio.
const maxEmptyReads = 100

func (in *input) readByte() (byte, error) {
	if in.r == in.w {
		if err := in.fill(); err != nil {
			return 0, err
		}
	}
	b := in.buf[in.r]
	in.r++
	return b, nil
}

// readFull fills p, a header.
func (in *input) readFull(p []byte) error {
	for len(p) > 0 {
		if in.r == in.w {
			if err := in.fill(); err != nil {
				return err
			}
		}
		n := copy(p, in.buf[in.r:in.w])
		in.r += n
		p = p[n:]
	}
	return nil
}

// readPayload fills a and then b (the two parts of a ring's free space)
// with the payload of a DATA message.
func (in *input) readPayload(a, b []byte) error {
	for {
		a = in.take(a)
		b = in.take(b)
		if len(a)+len(b) == 0 {
			return nil
		}
		// The buffer is empty.
		if in.err != nil {
			return in.err
		}
		if len(a) == 0 {
			a, b = b, nil
		}
		switch {
		case in.vr != nil:
			n, err := in.vr.read(true, a, b, in.buf)
			in.bytes.Add(uint64(n))
			if err != nil {
				in.err = err
				continue
			}
			k := min(n, len(a))
			a, n = a[k:], n-k
			k = min(n, len(b))
			b, n = b[k:], n-k
			in.r, in.w = 0, n
		case len(a) >= len(in.buf):
			n, err := in.conn.Read(a)
			in.bytes.Add(uint64(n))
			a = a[n:]
			if err != nil {
				in.err = err
			}
		default:
			if err := in.fill(); err != nil {
				return err
			}
		}
	}
}

// readAvailable fills what it can of p without waiting: from the buffer
// and, where the connection has vectored reads, with one read that also
// refills the buffer. It returns how much it filled; a failed read shows
// in the next call that needs the connection.
func (in *input) readAvailable(p []byte) int {
	n := copy(p, in.buf[in.r:in.w])
	in.r += n
	if n == len(p) || in.vr == nil || in.err != nil {
		return n
	}
	k, err := in.vr.read(false, p[n:], in.buf, nil)
	in.bytes.Add(uint64(k))
	if err != nil {
		in.err = err
		return n
	}
	m := min(k, len(p)-n)
	in.r, in.w = 0, k-m
	return n + m
}

// take copies buffered bytes into p and returns the rest of p.
func (in *input) take(p []byte) []byte {
	n := copy(p, in.buf[in.r:in.w])
	in.r += n
	return p[n:]
}

// discard skips n bytes.
func (in *input) discard(n int) error {
	for n > 0 {
		if in.r == in.w {
			if err := in.fill(); err != nil {
				return err
			}
		}
		k := min(n, in.w-in.r)
		in.r += k
		n -= k
	}
	return nil
}
