// Package transport dials and listens by address string and returns mux
// sessions and listeners, whatever carries them:
//
//	sess, err := transport.Dial(ctx, "tcp/$4:4000")
//	ln, err := transport.Listen(ctx, "ws://0.0.0.0:8080/qtalk")
//
// # Addresses
//
// An address is a URL ("tcp://127.0.0.1:4000", "unix:///run/app.sock",
// "ws://host:8080/path", "wss://host/path", "stdio:", "exec:cmd args") or,
// for host and path schemes, the compact form "scheme/rest", where rest is
// what follows "//" in the URL form ("tcp/127.0.0.1:4000",
// "unix//run/app.sock"). In the host, $4, $6 and $n stand for 127.0.0.1,
// [::1] and localhost, and *4 and *6 for 0.0.0.0 and [::]: "tcp/$4:4000".
// Either form may end in "!subport", a label the layers above use to pick
// a service ("tcp/$4:4000!chat"). ParseAddress turns a string into an
// Address and Address.String gives the canonical URL form back.
//
// # Connectors
//
// Each scheme is served by a Connector registered with Register, so other
// packages add schemes (transport/quic registers "quic") and Dial and Listen
// find them by name. The built-in schemes:
//
//   - tcp, unix: a qmux session over a socket. A unix listener removes its
//     socket file when closed.
//   - ws (alias websocket), wss: a qmux session over binary WebSocket
//     messages. Listen runs an HTTP server on the host and path; to mount
//     on an existing server, use a WebSocketHandler instead.
//   - stdio: a qmux session over the process's stdin and stdout. Listen
//     yields that one session.
//   - exec: starts the command and runs a qmux session over its stdin and
//     stdout. When the child exits, the session ends and Wait reports a
//     non-zero exit status as an error wrapping *exec.ExitError; closing
//     the session kills the child. Exec addresses cannot be listened on.
//   - tls: a qmux session over TLS over TCP.
//
// Importing transport/quic adds quic: the same API over QUIC streams
// (package mux/quic's sessions).
//
// # Raw connections
//
// DialConn and ListenConns give the byte streams the sessions of the
// built-in schemes run over, without a session: package relay pipes them.
// Where a stream can be half-closed it has a CloseWrite method.
//
// # Certificates
//
// The TLS schemes (tls, wss, and quic) share one set of options. A caller
// tls.Config (WithTLSConfig) is used as given; LoadTLSFiles makes one from
// PEM files (certificate, key, CA bundle for mutual TLS) that is reloaded
// when the files change. Without a certificate, a tls, wss or quic listener
// generates an ephemeral self-signed ECDSA P-256 certificate;
// its listener is a Fingerprinter whose Fingerprint ("sha256:<hex>") the
// application can print for clients to pin. A client pins a certificate
// with "?pin=sha256:<hex>" in the address or WithPin; a pin replaces the
// chain and host checks, but an expired certificate is still refused.
// Skipping verification must be explicit ("?insecure=1" or
// WithInsecureSkipVerify) and logs a warning.
//
// # Options
//
// Dial and Listen take Options: WithSessionConfig (the qmux configuration),
// WithTLSConfig, WithPin, WithInsecureSkipVerify, and WithValue for the
// options of third-party connectors, which receive them all as an
// *Options. The ws and wss listeners take three more: WithHTTPHandler,
// which serves the other paths (a web page), and WithAllowedOrigins and
// WithOriginRefused, which let pages of other origins than the server's
// open WebSockets and report the ones refused (WebSocketHandler takes
// these two as well).
//
// # Errors
//
// An address that does not parse gives an *AddressError matching
// ErrBadAddress (and ErrUnknownScheme for an unregistered scheme). Other
// sentinels: ErrUnsupported, ErrListenerClosed (which matches
// net.ErrClosed), ErrPinMismatch, ErrBadPin and ErrBadTLSFiles. Errors of
// the connectors are wrapped with the address.
package transport
