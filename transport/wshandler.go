package transport

import (
	"context"
	"net"
	"net/http"
	"sync"

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
// cross-origin requests are refused, as by websocket.Accept.
type WebSocketHandler struct {
	q *connQueue

	mu       sync.Mutex     // guards closed and the Add of inflight
	closed   bool           // Close was called
	inflight sync.WaitGroup // ServeHTTP calls past the closed check
}

var (
	_ http.Handler = (*WebSocketHandler)(nil)
	_ Listener     = (*WebSocketHandler)(nil)
)

// NewWebSocketHandler returns a handler whose sessions use the options (the
// session config; TLS is the server's business). An invalid session config
// makes Accept fail.
func NewWebSocketHandler(opts ...Option) *WebSocketHandler {
	o := new(Options)
	for _, opt := range opts {
		opt(o)
	}
	return newWebSocketHandler(o)
}

func newWebSocketHandler(o *Options) *WebSocketHandler {
	return &WebSocketHandler{q: newConnQueue(o)}
}

// ServeHTTP upgrades the request and waits until Accept takes the
// connection, the handler is closed (the connection is then closed), or the
// request's context is done. After Close it answers 503 Service
// Unavailable.
func (h *WebSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, ErrListenerClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	h.inflight.Add(1)
	h.mu.Unlock()
	defer h.inflight.Done()

	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has written the error response
	}
	h.q.push(r.Context(), wsNetConn(ws))
}

// Accept waits for the next upgraded connection and returns a session over
// it.
func (h *WebSocketHandler) Accept(ctx context.Context) (mux.Session, error) {
	return h.q.accept(ctx)
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
