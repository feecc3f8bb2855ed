package service

import (
	"slices"
	"strings"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/auth"
)

// authorize checks that the caller of c may call svc. A call whose bearer
// token is not among the config's tokens is refused as unauthenticated,
// whatever the service; a service with allow rules takes the callers
// they name (a verified certificate identity, or "token:NAME") and
// refuses the others with permission_denied.
func (st *state) authorize(c *rpc.Call, svc *service) error {
	var token string
	if _, ok := auth.TokenOf(c.Metadata); ok && st.tokens != nil {
		name, err := auth.Verify(c.Context(), c.Metadata, st.tokens.Verify)
		if err != nil {
			return err
		}
		token = "token:" + name
	}
	allow := svc.cfg.Allow
	if allow == nil {
		// Every caller may: the peer's identity (a copy of its TLS state,
		// on every call) is not looked up.
		return nil
	}
	var who []string
	if id := c.Peer().Identity(); id != "" {
		who = append(who, id)
	}
	if token != "" {
		who = append(who, token)
	}
	if slices.ContainsFunc(who, func(w string) bool { return slices.Contains(allow, w) }) {
		return nil
	}
	caller := "an anonymous caller"
	if len(who) > 0 {
		caller = strings.Join(who, " with ")
	}
	return rpc.Errorf(rpc.CodePermissionDenied, "%s may not call service %s", caller, svc.cfg.Name)
}
