package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/qtalkkit/qtalk/mux"
)

// wsConnector dials and listens on ws and wss URLs. The byte stream of the
// session travels in binary WebSocket messages.
type wsConnector struct {
	secure bool // wss
}

func (wsConnector) addressSyntax() syntax { return syntaxWeb }

func (c wsConnector) Dial(ctx context.Context, a Address, o *Options) (mux.Session, error) {
	conn, err := c.dialConn(ctx, a, o)
	if err != nil {
		return nil, err
	}
	return NewSession(conn, o)
}

func (c wsConnector) dialConn(ctx context.Context, a Address, o *Options) (io.ReadWriteCloser, error) {
	u := "ws://"
	if c.secure {
		u = "wss://"
	}
	u += a.Host + a.Path
	// A transport of its own, so that a TLS config applies and HTTP/2 is
	// never negotiated; after the upgrade it holds no connection.
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	query := a.RawQuery
	if c.secure {
		// The pin and insecure parameters are for this side: they are
		// taken out of the query sent to the server.
		cfg, rest, err := clientTLSConfig(a, o, true)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig, query = cfg, rest
	}
	if query != "" {
		u += "?" + query
	}
	defer tr.CloseIdleConnections()
	first := &firstBytes{}
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &recordingConn{Conn: c, first: first}, nil
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		url := strings.TrimSuffix(u, "?"+query)
		switch prefix := first.get(); {
		case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
			return nil, &UpgradeError{URL: url, StatusCode: resp.StatusCode, Status: resp.Status, Server: resp.Header.Get("Server"), Err: err}
		case len(prefix) > 0 && !bytes.HasPrefix(prefix, []byte(answerPrefix(c.secure))):
			return nil, &UpgradeError{URL: url, Prefix: prefix, Err: err}
		}
		return nil, err
	}
	return withTLSState(wsNetConn(ws), resp.TLS), nil
}

// answerPrefix is how the server's answer to the upgrade starts: an
// HTTP status line, or for wss a TLS handshake record.
func answerPrefix(secure bool) string {
	if secure {
		return "\x16\x03"
	}
	return "HTTP/"
}

// maxFirstBytes is how many bytes firstBytes keeps.
const maxFirstBytes = 16

// firstBytes keeps the first bytes a server sent on the connection of a
// WebSocket dial, to tell what answered when the upgrade fails.
type firstBytes struct {
	mu sync.Mutex // guards b
	b  []byte
}

func (f *firstBytes) add(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := min(len(p), maxFirstBytes-len(f.b)); n > 0 {
		f.b = append(f.b, p[:n]...)
	}
}

func (f *firstBytes) get() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.b
}

// recordingConn is a connection whose first bytes read go to first.
type recordingConn struct {
	net.Conn
	first *firstBytes
	done  atomic.Bool // set once first is full: reads pass through
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.done.Load() {
		c.first.add(p[:n])
		c.done.Store(len(c.first.get()) >= maxFirstBytes)
	}
	return n, err
}

func (c wsConnector) Listen(ctx context.Context, a Address, o *Options) (Listener, error) {
	var tlsConfig *tls.Config
	var fp string
	if c.secure {
		var err error
		if tlsConfig, fp, err = serverTLSConfig(Address{Host: a.Host}, o); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", a.Host)
	if err != nil {
		return nil, err
	}
	l := &wsListener{
		WebSocketHandler: newWebSocketHandler(o),
		ln:               ln,
		fp:               fp,
		served:           make(chan struct{}),
	}
	served := net.Listener(newGuardedListener(ln, o))
	if tlsConfig != nil {
		served = tls.NewListener(served, tlsConfig)
	}
	l.srv = &http.Server{
		Handler:           wsRoutes(a.Path, l.WebSocketHandler, o.HTTPHandler),
		ReadHeaderTimeout: o.handshakeTimeout(),       // bounds the TLS handshake too
		ErrorLog:          log.New(io.Discard, "", 0), // no logging from a library
	}
	go func() {
		defer close(l.served)
		l.srv.Serve(served) // returns http.ErrServerClosed after Close
	}()
	return l, nil
}

// wsRoutes returns the handler of a listener on path: ws for the
// WebSocket, other for the rest (nil for 404 Not Found). Without a path,
// every upgrade request goes to ws, and so does the rest if other is nil
// (ws answers it 426 Upgrade Required).
func wsRoutes(path string, ws, other http.Handler) http.Handler {
	if path == "" || path == "/" {
		if other == nil {
			return ws
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isUpgrade(r) {
				ws.ServeHTTP(w, r)
				return
			}
			other.ServeHTTP(w, r)
		})
	}
	if other == nil {
		other = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() == path {
			ws.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for token := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "websocket") {
				return true
			}
		}
	}
	return false
}

// wsNetConn returns a byte stream over binary messages of ws. Its life is
// not tied to any context: it ends when closed or when the peer closes.
func wsNetConn(ws *websocket.Conn) net.Conn {
	// qmux writes many frames at once, so a message can be far larger than
	// a frame; NetConn streams each message into Read, so no limit is
	// needed to bound memory.
	ws.SetReadLimit(-1)
	return websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
}

// A tlsStateConn is a connection carried over TLS by a layer underneath
// (a WebSocket's HTTP connection). It has the ConnectionState method of
// a *tls.Conn, so its session knows the handshake (mux.TLSSession).
type tlsStateConn struct {
	net.Conn
	state tls.ConnectionState
}

func (c *tlsStateConn) ConnectionState() tls.ConnectionState { return c.state }

// withTLSState returns c with the TLS state cs, or c if cs is nil.
func withTLSState(c net.Conn, cs *tls.ConnectionState) net.Conn {
	if cs == nil {
		return c
	}
	return &tlsStateConn{Conn: c, state: *cs}
}

// wsListener is a WebSocketHandler served by an http.Server of its own.
type wsListener struct {
	*WebSocketHandler
	ln     net.Listener // the TCP listener, for Addr
	fp     string       // the certificate's fingerprint (wss)
	srv    *http.Server
	served chan struct{} // closed when Serve has returned
}

// Close stops the handler and the server, and waits for both.
func (l *wsListener) Close() error {
	l.WebSocketHandler.Close()
	err := l.srv.Close()
	<-l.served
	return err
}

// Addr returns the TCP address listened on.
func (l *wsListener) Addr() net.Addr { return l.ln.Addr() }

// Fingerprint returns the fingerprint of a wss listener's certificate, or
// "" for ws.
func (l *wsListener) Fingerprint() string { return l.fp }
