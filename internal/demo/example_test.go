package demo_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/internal/demo"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// The built-in services over an in-memory session: echo takes one value,
// the chat and kv services arrays of their parameters (fn.Call sends
// them so), and chat:subscribe streams events.
func Example() {
	s := demo.New(slog.New(slog.DiscardHandler))
	defer s.Close()
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	server := talk.NewPeer(sess1, talk.WithHandler(s.Handler()))
	defer server.Close()
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	client := talk.NewPeer(sess2)
	defer client.Close()
	ctx := context.Background()

	var echoed string
	if _, err := client.Call(ctx, "echo:echo", "hello", &echoed); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(echoed)

	if err := fn.Invoke(ctx, client.Client(), "kv:set", "color", "blue"); err != nil {
		fmt.Println(err)
		return
	}
	color, err := fn.Call[string](ctx, client.Client(), "kv:get", "color")
	fmt.Println(color, err)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := fn.Stream[demo.Event](ctx, client.Client(), "chat:subscribe", "ada")
	for ev, err := range events {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(ev.Type, ev.User)
		if ev.Type == "joined" {
			if _, err := fn.Call[demo.Message](ctx, client.Client(), "chat:send", "ada", "hi"); err != nil {
				fmt.Println(err)
				break
			}
			continue
		}
		fmt.Println(ev.Message.Text)
		break
	}
	// Output:
	// hello
	// blue <nil>
	// joined ada
	// message ada
	// hi
}
