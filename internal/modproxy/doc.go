// Package modproxy writes Go module proxies on the file system for tests
// that build programs with the go command without the network: qtalk
// from this checkout, and small modules that depend on it.
package modproxy
