// Package auth authenticates rpc calls with bearer tokens carried in the
// call's metadata: BearerToken is the client's interceptor that adds one,
// RequireToken the server's that refuses calls without a valid one, with
// a Verifier of the caller's or the static tokens of a file (LoadTokens).
package auth
