package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/qtalkkit/qtalk/rpc"
)

// MetadataKey is the metadata key of the token, whose value is "Bearer "
// and the token, as in an HTTP Authorization header.
const MetadataKey = "authorization"

const bearer = "Bearer "

// BearerToken returns a client interceptor that sends token with every
// call.
func BearerToken(token string) rpc.Interceptor {
	return rpc.ClientInterceptorFunc(func(next rpc.CallFunc) rpc.CallFunc {
		return func(ctx context.Context, call *rpc.OutgoingCall) (*rpc.Response, error) {
			call.Metadata[MetadataKey] = bearer + token
			return next(ctx, call)
		}
	})
}

// TokenOf returns the bearer token of a call's metadata, and false if it
// has none.
func TokenOf(md rpc.Metadata) (string, bool) {
	v, ok := md[MetadataKey]
	if !ok {
		return "", false
	}
	token, ok := strings.CutPrefix(v, bearer)
	return token, ok && token != ""
}

// A Verifier checks a token and returns the name of whom it stands for.
// A token it does not accept is an error; one that is an *rpc.Error
// keeps its code, others are reported as unauthenticated.
type Verifier func(ctx context.Context, token string) (name string, err error)

// ErrNoToken is matched by the error of a call without a bearer token.
var ErrNoToken = errors.New("auth: no bearer token")

// ErrBadToken is matched by the error of a call whose token the verifier
// refused (unless the verifier's error has a code of its own).
var ErrBadToken = errors.New("auth: token refused")

// Verify returns the name of the caller whose metadata is md, with
// verify: an error with rpc.CodeUnauthenticated, matching ErrNoToken or
// ErrBadToken, if md has no token or verify refuses it.
func Verify(ctx context.Context, md rpc.Metadata, verify Verifier) (string, error) {
	token, ok := TokenOf(md)
	if !ok {
		return "", rpc.NewError(rpc.CodeUnauthenticated, ErrNoToken)
	}
	name, err := verify(ctx, token)
	if err != nil {
		var re *rpc.Error
		if errors.As(err, &re) {
			return "", err
		}
		return "", rpc.NewError(rpc.CodeUnauthenticated, fmt.Errorf("%w: %v", ErrBadToken, err))
	}
	return name, nil
}

// RequireToken returns a server interceptor that refuses, with
// rpc.CodeUnauthenticated, the calls without a bearer token that verify
// accepts.
func RequireToken(verify Verifier) rpc.Interceptor {
	return rpc.ServerInterceptorFunc(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			if _, err := Verify(c.Context(), c.Metadata, verify); err != nil {
				r.Error(err)
				return
			}
			next.RespondRPC(r, c)
		})
	})
}
