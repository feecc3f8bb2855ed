package transport

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/qtalkkit/qtalk/mux"
)

// A WebSocketHandler is an http.Handler that upgrades requests to
// WebSocket connections and a Listener whose Accept returns a session over
// each one, so qtalk can be mounted on an existing HTTP server:
//
//	h := transport.NewWebSocketHandler()
//	http.Handle("/qtalk", h)
//	sess, err := h.Accept(ctx)
//
// Peers dial it with a ws:// or wss:// address of the server and path.
// The handler accepts requests from any path it is mounted on. Browsers'
// requests from pages of other origins than the server's are refused
// unless WithAllowedOrigins allows them.
type WebSocketHandler struct {
	q       *connQueue
	accept  atomic.Pointer[websocket.AcceptOptions] // replaced by SetAllowedOrigins
	refused func(origin string, r *http.Request)    // nil if not set
	badOpts error                                   // a bad option: every request fails with it

	mu       sync.Mutex     // guards closed and the Add of inflight
	closed   bool           // Close was called
	inflight sync.WaitGroup // ServeHTTP calls past the closed check
}

var (
	_ http.Handler = (*WebSocketHandler)(nil)
	_ Listener     = (*WebSocketHandler)(nil)
)

// NewWebSocketHandler returns a handler whose sessions use the options: the
// session config, WithAllowedOrigins and WithOriginRefused (TLS is the
// server's business). An invalid session config makes Accept fail; a
// malformed origin pattern makes Accept fail too, and every request get
// 500 Internal Server Error.
func NewWebSocketHandler(opts ...Option) *WebSocketHandler {
	o := new(Options)
	for _, opt := range opts {
		opt(o)
	}
	h := newWebSocketHandler(o)
	if err := checkOriginPatterns(o.AllowedOrigins); err != nil {
		h.badOpts = err
		h.q.fail(err)
	}
	return h
}

func newWebSocketHandler(o *Options) *WebSocketHandler {
	h := &WebSocketHandler{q: newConnQueue(o), refused: o.OriginRefused}
	h.accept.Store(&websocket.AcceptOptions{OriginPatterns: o.AllowedOrigins})
	return h
}

// SetAllowedOrigins replaces the patterns of the origins allowed besides
// the server's own (see WithAllowedOrigins), for the upgrades that
// follow; a server reloading its config calls it. A ws or wss listener
// has the method too. It fails with an error matching
// ErrBadOriginPattern for a malformed pattern, and then changes nothing.
func (h *WebSocketHandler) SetAllowedOrigins(patterns ...string) error {
	if err := checkOriginPatterns(patterns); err != nil {
		return err
	}
	h.accept.Store(&websocket.AcceptOptions{OriginPatterns: slices.Clone(patterns)})
	return nil
}

// ServeHTTP upgrades the request and waits until Accept takes the
// connection, the handler is closed (the connection is then closed), or the
// request's context is done. It answers 403 Forbidden to a page of an
// origin not allowed, and after Close 503 Service Unavailable.
func (h *WebSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.badOpts != nil {
		http.Error(w, h.badOpts.Error(), http.StatusInternalServerError)
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, ErrListenerClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	h.inflight.Add(1)
	h.mu.Unlock()
	defer h.inflight.Done()

	sw := &statusWriter{ResponseWriter: w}
	ws, err := websocket.Accept(sw, r, h.accept.Load())
	if err != nil {
		// Accept has written the error response. Its only 403 is for an
		// origin it did not allow.
		if sw.status == http.StatusForbidden && h.refused != nil {
			h.refused(r.Header.Get("Origin"), r)
		}
		return
	}
	h.q.push(r.Context(), withTLSState(wsNetConn(ws), r.TLS))
}

// A statusWriter notes the status of the response written through it. It
// unwraps to the ResponseWriter underneath, which websocket.Accept
// hijacks.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Accept waits for the next upgraded connection and returns a session over
// it.
func (h *WebSocketHandler) Accept(ctx context.Context) (mux.Session, error) {
	return h.q.accept(ctx)
}

// AcceptConn waits for the next upgraded connection and returns it as a
// byte stream, without a session over it (see ListenConns).
func (h *WebSocketHandler) AcceptConn(ctx context.Context) (io.ReadWriteCloser, error) {
	return h.q.acceptConn(ctx)
}

// Close makes pending and later Accepts fail and later requests get 503,
// closes the connections upgraded but not accepted, and waits for the
// ServeHTTP calls in progress to return. It does not close accepted
// sessions.
func (h *WebSocketHandler) Close() error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.q.close()
	h.inflight.Wait()
	return nil
}

// Addr returns mux.Addr{Net: "ws"}: the handler does not know the address
// of the server it is mounted on.
func (h *WebSocketHandler) Addr() net.Addr { return mux.Addr{Net: "ws"} }
