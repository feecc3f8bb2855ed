// Package tlsconf holds what qtalk's TLS-based transports share below
// package transport, so that package transport (tls, wss) and package
// mux/quic use one definition without importing each other: the
// application protocol (ALPN) they negotiate, a listener's configuration
// with an ephemeral self-signed certificate when it has none, and the
// fingerprint clients pin such a certificate by.
//
// Package transport documents the behaviour (transport.ServerTLSConfig,
// transport.SelfSignedCertificate, transport.Fingerprint); this package
// only implements it.
package tlsconf
