package auth_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/auth"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// connect serves h on an in-memory session and returns a client with
// opts on its peer, and a function that tears both down.
func connect(h rpc.Handler, opts ...rpc.ClientOption) (*rpc.Client, func()) {
	a, b := pipe.New()
	cs, err := qmux.New(a, nil)
	if err != nil {
		panic(err)
	}
	ss, err := qmux.New(b, nil)
	if err != nil {
		panic(err)
	}
	srv := &rpc.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(ss)
	}()
	return rpc.NewClient(cs, opts...), func() {
		cs.Close()
		ss.Close()
		<-done
		srv.Shutdown(context.Background())
	}
}

var whoami = rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return("hi") })

func TestRequireToken(t *testing.T) {
	tokens, err := auth.ParseTokens([]byte("# who\nci   t0k3n-ci\n\nops t0k3n-ops\n"), "tokens")
	if err != nil {
		t.Fatal(err)
	}
	denyOps := func(ctx context.Context, token string) (string, error) {
		name, err := tokens.Verify(ctx, token)
		if name == "ops" {
			return "", rpc.Errorf(rpc.CodePermissionDenied, "ops may not")
		}
		return name, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name   string
		verify auth.Verifier
		client []rpc.ClientOption
		code   rpc.Code
		is     error
	}{
		{"valid", tokens.Verify, []rpc.ClientOption{rpc.WithInterceptors(auth.BearerToken("t0k3n-ops"))}, rpc.CodeOK, nil},
		{"none", tokens.Verify, nil, rpc.CodeUnauthenticated, auth.ErrNoToken},
		{"unknown", tokens.Verify, []rpc.ClientOption{rpc.WithInterceptors(auth.BearerToken("t0k3n"))}, rpc.CodeUnauthenticated, auth.ErrBadToken},
		{"verifier's code", denyOps, []rpc.ClientOption{rpc.WithInterceptors(auth.BearerToken("t0k3n-ops"))}, rpc.CodePermissionDenied, nil},
		{"verifier accepts", denyOps, []rpc.ClientOption{rpc.WithInterceptors(auth.BearerToken("t0k3n-ci"))}, rpc.CodeOK, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, stop := connect(rpc.Intercept(whoami, auth.RequireToken(tc.verify)), tc.client...)
			defer stop()
			_, err := client.Call(ctx, "m:whoami", nil, nil)
			if got := rpc.CodeOf(err); got != tc.code {
				t.Errorf("call: %v (%s), want %s", err, got, tc.code)
			}
			// The error's text travels; the sentinel is matched on the
			// server's side, by Verify.
			if tc.is != nil && !strings.Contains(fmt.Sprint(err), tc.is.Error()) {
				t.Errorf("call: %v, want it to say %q", err, tc.is)
			}
		})
	}
	if _, err := auth.Verify(ctx, rpc.Metadata{auth.MetadataKey: "Basic x"}, tokens.Verify); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("Verify of a Basic authorization: %v, want ErrNoToken", err)
	}
	if _, err := auth.Verify(ctx, rpc.Metadata{auth.MetadataKey: "Bearer nope"}, tokens.Verify); !errors.Is(err, auth.ErrBadToken) {
		t.Errorf("Verify of an unknown token: %v, want ErrBadToken", err)
	}
}

func TestParseTokensErrors(t *testing.T) {
	for _, doc := range []string{"ci", "ci a b", "ci a\nci b", "ci a\nops a", strings.Repeat("x", 1<<20+1)} {
		if _, err := auth.ParseTokens([]byte(doc), "t"); !errors.Is(err, auth.ErrBadTokenFile) {
			t.Errorf("ParseTokens(%.20q): %v, want ErrBadTokenFile", doc, err)
		}
	}
	if _, err := auth.LoadTokens(filepath.Join(t.TempDir(), "none")); !errors.Is(err, auth.ErrBadTokenFile) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadTokens of a missing file: %v", err)
	}
}

func ExampleRequireToken() {
	tokens, _ := auth.ParseTokens([]byte("ci s3cret\n"), "tokens")
	client, stop := connect(rpc.Intercept(whoami, auth.RequireToken(tokens.Verify)),
		rpc.WithInterceptors(auth.BearerToken("s3cret")))
	defer stop()
	var reply string
	_, err := client.Call(context.Background(), "m:whoami", nil, &reply)
	fmt.Println(reply, err)
	// Output: hi <nil>
}
