// Package testcert issues TLS certificates for tests from a throwaway
// certificate authority.
package testcert
