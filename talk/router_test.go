package talk_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// reply returns a handler answering s, the selector it saw and the label's
// parameter "p".
func reply(s string) rpc.HandlerFunc {
	return func(r rpc.Responder, c *rpc.Call) {
		l, err := talk.LabelOf(c)
		if err != nil {
			r.Error(err)
			return
		}
		p, _ := l.Params.Get("p")
		r.Return(s + " " + c.Selector + " " + p)
	}
}

type calc struct{}

func (calc) Add(a, b int) int { return a + b }

func TestRouter(t *testing.T) {
	rt := talk.NewRouter()
	rt.Handle("chat:send", reply("chat.send"))
	rt.Handle("guild:send", reply("guild.send"))
	rt.Handle("files:docs.*", reply("docs"))
	rt.Handle("files:docs.index", reply("index"))
	rt.Handle("files:*", reply("any file"))
	calcRoutes := new(talk.Routes)
	calcRoutes.Handle("*", fn.MustHandlerFrom(calc{}))
	rt.Mount("calc", calcRoutes)
	rt.Routes("guild").HandleMatch("v2", label.MatchFunc(func(l label.Label) bool {
		v, _ := l.Params.Get("v")
		return v == "2"
	}), reply("v2"))

	forEachPair(t, func(t *testing.T, mp makePair) {
		_, client := mp(t, []talk.Option{talk.WithHandler(rt)}, nil)
		ctx := callCtx(t)
		for _, tt := range []struct{ sel, want string }{
			{"chat:send", "chat.send send "},
			{"guild:send?p=x%20y", "guild.send send x y"},
			{"files:docs.readme?p=1", "docs readme 1"},
			{"files:docs.index", "index docs.index "},
			{"files:img.logo", "any file img.logo "},
			{"guild:other?v=2", "v2 other "},
		} {
			var got string
			if _, err := client.Call(ctx, tt.sel, nil, &got); err != nil {
				t.Errorf("%s: %v", tt.sel, err)
			} else if got != tt.want {
				t.Errorf("%s = %q, want %q", tt.sel, got, tt.want)
			}
		}
		if sum, err := fn.Call[int](ctx, client.Client(), "calc:add", 2, 3); err != nil || sum != 5 {
			t.Errorf("calc:add = %d, %v", sum, err)
		}
		for _, sel := range []string{"chat:nope", "nope:send", "not a label", "example.net/chat:send", "guild:other?v=1"} {
			if _, err := client.Call(ctx, sel, nil, nil); !errors.Is(err, rpc.ErrNotFound) {
				t.Errorf("%s: %v, want not_found", sel, err)
			}
		}
	})
	want := "calc:* chat:send files:* files:docs.* files:docs.index guild:send guild:v2"
	if got := strings.Join(rt.Labels(), " "); got != want {
		t.Errorf("Labels = %q, want %q", got, want)
	}
	if !rt.Unmount("calc") || rt.Unmount("calc") {
		t.Error("Unmount should report the module once")
	}
	if !rt.Routes("files").Remove("docs.*") || rt.Routes("files").Remove("docs.*") {
		t.Error("Remove should report the route once")
	}
}

func TestRouterPanics(t *testing.T) {
	for name, f := range map[string]func(rt *talk.Router){
		"no colon":    func(rt *talk.Router) { rt.Handle("chat", reply("")) },
		"bad module":  func(rt *talk.Router) { rt.Handle("-chat:send", reply("")) },
		"bad name":    func(rt *talk.Router) { rt.Handle("chat:se nd", reply("")) },
		"star inside": func(rt *talk.Router) { rt.Handle("chat:a*b", reply("")) },
		"twice": func(rt *talk.Router) {
			rt.Handle("chat:send", reply(""))
			rt.Handle("chat:send", reply(""))
		},
		"mount taken": func(rt *talk.Router) {
			rt.Handle("chat:send", reply(""))
			rt.Mount("chat", new(talk.Routes))
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(talk.NewRouter())
		})
	}
}

func TestOpenChannel(t *testing.T) {
	rt := talk.NewRouter()
	rt.HandleChannel("files:upper", talk.ChannelHandlerFunc(func(ctx context.Context, conn mux.Channel, l label.Label) {
		data, _ := io.ReadAll(conn)
		prefix, _ := l.Params.Get("prefix")
		conn.Write([]byte(prefix + strings.ToUpper(string(data))))
	}))
	rt.Handle("files:unary", reply("unary"))
	forEachPair(t, func(t *testing.T, mp makePair) {
		_, client := mp(t, []talk.Option{talk.WithHandler(rt)}, nil)
		ctx := callCtx(t)
		conn, err := client.OpenChannel(ctx, "files:upper?prefix=%3E", nil)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("hello"))
		conn.CloseWrite()
		data, err := io.ReadAll(conn)
		if err != nil || string(data) != ">HELLO" {
			t.Errorf("read %q, %v; want >HELLO", data, err)
		}
		if err := conn.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := client.OpenChannel(ctx, "files:unary", nil); !errors.Is(err, talk.ErrNotChannel) {
			t.Errorf("OpenChannel of a unary label: %v, want ErrNotChannel", err)
		}
		if _, err := client.OpenChannel(ctx, "files", nil); !errors.Is(err, label.ErrInvalid) {
			t.Errorf("OpenChannel of a bad label: %v, want label.ErrInvalid", err)
		}
		if _, err := client.OpenChannel(ctx, "files:none", nil); !errors.Is(err, rpc.ErrNotFound) {
			t.Errorf("OpenChannel of an unknown label: %v, want not_found", err)
		}
	})
}
