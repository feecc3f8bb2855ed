package mux

import (
	"context"
	"net"
	"sync"
)

// Listener returns a net.Listener whose Accept returns the channels the
// peer opens on s. Closing the listener stops Accept without closing s;
// Accept also fails once s ends.
func Listener(s Session) net.Listener {
	ctx, cancel := context.WithCancel(context.Background())
	return &listener{s: s, ctx: ctx, cancel: cancel}
}

type listener struct {
	s      Session
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	ch, err := l.s.Accept(l.ctx)
	if err != nil {
		if l.ctx.Err() != nil {
			return nil, net.ErrClosed
		}
		return nil, err
	}
	return ch, nil
}

func (l *listener) Close() error {
	l.once.Do(l.cancel)
	return nil
}

func (l *listener) Addr() net.Addr { return l.s.LocalAddr() }
