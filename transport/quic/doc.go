// Package quic registers the "quic" scheme with package transport, so
// that transport.Dial and transport.Listen serve quic://host:port
// addresses with package mux/quic's sessions:
//
//	import _ "github.com/qtalkkit/qtalk/transport/quic"
//
//	ln, err := transport.Listen(ctx, "quic/*4:4433")
//	fmt.Printf("dial quic://myhost:4433?pin=%s\n", ln.(transport.Fingerprinter).Fingerprint())
//	sess, err := transport.Dial(ctx, "quic://myhost:4433?pin=sha256:...")
//
// It sits above both packages: mux/quic implements the sessions without
// knowing of addresses, and package transport does not depend on QUIC.
// Programs that take addresses from their users (the qtalk command)
// import it.
//
// # Certificates
//
// The quic scheme takes the options of the other TLS-based schemes (see
// package transport). WithTLSConfig supplies the certificate of a
// listener and the roots of a dialer. A listener without a certificate
// generates an ephemeral self-signed one and is a transport.Fingerprinter
// whose fingerprint clients pin with "?pin=sha256:<hex>" or
// transport.WithPin. Verification is skipped only when asked for
// explicitly, with "?insecure=1" or transport.WithInsecureSkipVerify, and
// each such dial logs a warning with slog's default logger. Otherwise the
// certificate is verified against the system roots (or the caller's
// config), which a self-signed certificate fails. See
// transport.ClientTLSConfig.
//
// WithConfig sets the mux/quic configuration of the sessions. A
// listener's sessions get the listener's idle timeout
// (transport.WithIdleTimeout, transport.DefaultServerIdleTimeout by
// default) as quic.Config.IdleTimeout, unless WithConfig sets one, as
// the byte-stream schemes' sessions get it as qmux.Config.IdleTimeout.
// Accept fails with transport.ErrListenerClosed after the listener is
// closed.
package quic
