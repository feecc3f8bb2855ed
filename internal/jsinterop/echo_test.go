//go:build browser

package jsinterop

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// closeSession is what a channel begins with to make the echo server
// close the whole session: the TypeScript driver's peer-closes scenario.
const closeSession = "close-session"

// An echoServer is the Go peer of the qmux scenarios: on each session, it
// echoes every channel the other side opens. It writes back the bytes it
// reads; when the other side half-closes, it half-closes once it has
// echoed everything, then closes (the echo stays readable: the CLOSE
// follows it); when the other side closes, it closes. A channel
// whose first bytes are closeSession closes the session instead.
type echoServer struct {
	channels      atomic.Int64 // channels accepted
	closeRequests atomic.Int64 // sessions closed for a closeSession channel
}

// listenEcho serves an echo server on addr for the test and returns the
// address it listens on.
func listenEcho(t *testing.T, addr string) (string, *echoServer) {
	t.Helper()
	ln, listened := listen(t, addr)
	e := new(echoServer)
	serveSessions(t, ln, e.serve)
	return listened, e
}

// serve echoes the channels of sess until it ends.
func (e *echoServer) serve(sess mux.Session) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		ch, err := sess.Accept(context.Background())
		if err != nil {
			return
		}
		e.channels.Add(1)
		wg.Go(func() { e.echo(sess, ch) })
	}
}

// echo echoes ch, which belongs to sess.
func (e *echoServer) echo(sess mux.Session, ch mux.Channel) {
	defer ch.Close()
	head, err := readHead(ch)
	if bytes.HasPrefix(head, []byte(closeSession)) {
		e.closeRequests.Add(1)
		sess.Close()
		return
	}
	if _, werr := ch.Write(head); werr != nil {
		return
	}
	if err == nil {
		_, err = io.Copy(ch, ch) // nil at the other side's EOF
	}
	if err == nil || err == io.EOF {
		ch.CloseWrite()
	}
}

// readHead reads the first bytes of ch, until they are closeSession or
// cannot be its beginning, and returns them with the error that ended
// reading, if any.
func readHead(ch mux.Channel) ([]byte, error) {
	var head []byte
	buf := make([]byte, 32<<10)
	for len(head) < len(closeSession) && bytes.HasPrefix([]byte(closeSession), head) {
		n, err := ch.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil {
			return head, err
		}
	}
	return head, nil
}
