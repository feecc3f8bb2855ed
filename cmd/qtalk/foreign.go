package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport"
)

// errNotQtalk is matched by the error for a peer that speaks another
// protocol.
var errNotQtalk = errors.New("not a qtalk server")

// greetings name the protocols a foreign peer is told by, from the first
// bytes it sends: a greeting, or its answer to bytes it does not
// understand.
var greetings = []struct {
	prefix string
	like   string
}{
	{"HTTP/", "an HTTP server"},
	{"\x00\x00\x12\x04", "an HTTP/2 server"}, // a SETTINGS frame
	{"\x15\x03", "a TLS server (use tls:// or wss://)"},
	{"\x16\x03", "a TLS server (use tls:// or wss://)"},
	{"SSH-", "an SSH server"},
	{"220", "an SMTP or FTP server"},
	{"+OK", "a POP3 server"},
	{"* OK", "an IMAP server"},
	{"-ERR", "a Redis server"},
	{"<", "an XML or HTML speaking server"},
}

// foreign returns the error for a peer at addr whose first bytes, in err,
// are not what the protocol expects (qtalk's qmux, or TLS for a tls://
// address): a *dialError matching errNotQtalk that names the protocol the
// bytes look like, with the exit status for a server that cannot be
// reached. It returns nil for other errors.
//
// For ws:// and wss:// addresses, the peer's answer to the WebSocket
// upgrade counts too (a *transport.UpgradeError): an HTTP status other
// than 101, an HTTP answer to the TLS of wss://, or an answer that is no
// HTTP at all.
func foreign(addr string, err error) error {
	var (
		fe     *qmux.ForeignError
		rh     tls.RecordHeaderError
		ue     *transport.UpgradeError
		prefix []byte
	)
	switch {
	case errors.As(err, &fe):
		prefix = fe.Prefix
	case errors.As(err, &rh):
		prefix = rh.RecordHeader[:]
	case errors.As(err, &ue) && ue.StatusCode != 0:
		like := "it answered the WebSocket upgrade with HTTP " + ue.Status
		if ue.StatusCode == http.StatusNotFound {
			like += " (no WebSocket at that path?)"
		}
		return notQtalk(addr, like)
	case errors.As(err, &ue):
		prefix = ue.Prefix
		if strings.HasPrefix(ue.URL, "wss:") && bytes.HasPrefix(prefix, []byte("HTTP/")) {
			return notQtalk(addr, "it answered like an HTTP server (use ws://)")
		}
	default:
		return nil
	}
	like := fmt.Sprintf("it answered %q", prefix)
	for _, g := range greetings {
		if bytes.HasPrefix(prefix, []byte(g.prefix)) {
			like = "it answered like " + g.like
			break
		}
	}
	return notQtalk(addr, like)
}

// notQtalk returns the *dialError matching errNotQtalk for the peer at
// addr, which answered as like says.
func notQtalk(addr, like string) error {
	return &dialError{addr: addr, err: fmt.Errorf("%w: %s", errNotQtalk, like)}
}
