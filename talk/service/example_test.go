package service_test

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// A module registers itself by import path, usually from the init
// function of its package.
func init() {
	service.RegisterModule("example.net/greeter", func(m *service.Module) error {
		m.HandleFunc("hello", func(r rpc.Responder, c *rpc.Call) {
			var name string
			if err := c.Receive(&name); err != nil {
				r.Error(err)
				return
			}
			l, _ := talk.LabelOf(c)
			greeting := "Hello"
			if lang, _ := l.Params.Get("lang"); lang == "fr" {
				greeting = "Bonjour"
			}
			m.Emit("greeted", name)
			r.Return(greeting + ", " + name + "!")
		})
		return nil
	})
}

// A server with a local module, serving a session over an in-memory
// pipe: a client calls the module's procedure by label and follows the
// service's events.
func Example() {
	cfg, err := config.Parse([]byte(`
[services]
greeter = { provider = "local", module = "example.net/greeter" }
`), "qtalk.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := service.New(cfg, service.WithLogger(discard))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	go srv.ServeSession(sess1)
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	client := talk.NewPeer(sess2)
	defer client.Close()

	ctx := context.Background()
	sub, err := service.Subscribe(ctx, client.Client(), "greeter")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()
	ev, _ := sub.Next()
	fmt.Println(ev.Name)

	var reply string
	if _, err := client.Call(ctx, "greeter:hello?lang=fr", "Ada", &reply); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply)
	ev, _ = sub.Next()
	fmt.Println(ev.Name, ev.Param)

	var labels []string
	client.Call(ctx, service.LabelLabels, nil, &labels)
	fmt.Println(labels)
	// Output:
	// greeter/open
	// Bonjour, Ada!
	// greeter/greeted Ada
	// [greeter:hello qtalk:describe qtalk:labels qtalk:ping qtalk:services qtalk:source qtalk:subscribe]
}
