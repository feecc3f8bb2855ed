package relay

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// A closeWriter is a connection that can be half-closed.
type closeWriter interface{ CloseWrite() error }

// Join copies bytes both ways between a and b until both directions have
// ended, then closes both and returns. The end of one side's bytes is
// passed on as a CloseWrite of the other; if the other cannot be
// half-closed (a WebSocket), the pipe ends there. A read or write error
// on either side, ctx ending, or no byte moving for cfg.IdleTimeout
// (ErrIdle) ends the pipe at once, closing both. Join returns nil when
// both sides ended their bytes, otherwise the first error.
func Join(ctx context.Context, a, b io.ReadWriteCloser, cfg *Config) error {
	c := cfg.withDefaults()
	p := &pipe{a: a, b: b}
	stop := context.AfterFunc(ctx, func() { p.end(context.Cause(ctx)) })
	defer stop()
	if c.IdleTimeout > 0 {
		p.touch()
		var idle *time.Timer
		idle = time.AfterFunc(c.IdleTimeout, func() {
			if rest := c.IdleTimeout - time.Since(time.Unix(0, p.last.Load())); rest > 0 {
				idle.Reset(rest)
				return
			}
			p.end(ErrIdle)
		})
		defer idle.Stop()
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.copy(b, a, c.BufferSize) })
	wg.Go(func() { p.copy(a, b, c.BufferSize) })
	wg.Wait()
	p.end(nil)
	return p.err
}

// A pipe is the state the two directions of a Join share.
type pipe struct {
	a, b io.ReadWriteCloser
	last atomic.Int64 // unix nanoseconds of the last byte moved
	once sync.Once    // the first end wins
	err  error        // why the pipe ended; written in once
}

func (p *pipe) touch() { p.last.Store(time.Now().UnixNano()) }

// end closes both sides with err as the reason, if no end came first.
func (p *pipe) end(err error) {
	p.once.Do(func() {
		p.err = err
		p.a.Close()
		p.b.Close()
	})
}

// copy moves the bytes of src to dst through a buffer of size bytes.
func (p *pipe) copy(dst io.Writer, src io.Reader, size int) {
	buf := make([]byte, size)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.touch()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				p.end(werr)
				return
			}
		}
		if errors.Is(err, io.EOF) {
			cw, ok := dst.(closeWriter)
			if !ok {
				p.end(nil)
				return
			}
			if cerr := cw.CloseWrite(); cerr != nil {
				p.end(cerr)
			}
			return
		}
		if err != nil {
			p.end(err)
			return
		}
	}
}
