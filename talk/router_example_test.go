package talk_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// A Router routes calls by label: the same name in two modules is two
// routes, parameters reach the handler, and a raw channel is opened by
// label too.
func ExampleRouter() {
	rt := talk.NewRouter()
	for _, module := range []string{"chat", "guild"} {
		rt.HandleFunc(module+":send", func(r rpc.Responder, c *rpc.Call) {
			var msg string
			c.Receive(&msg)
			l, _ := talk.LabelOf(c)
			room, _ := l.Params.Get("room")
			r.Return(fmt.Sprintf("%s got %q in room %s", l.Module, msg, room))
		})
	}
	rt.HandleChannel("files:upper", talk.ChannelHandlerFunc(func(ctx context.Context, conn mux.Channel, l label.Label) {
		data, _ := io.ReadAll(conn)
		conn.Write([]byte(strings.ToUpper(string(data))))
	}))

	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	server := talk.NewPeer(sess1, talk.WithHandler(rt))
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	client := talk.NewPeer(sess2)
	defer server.Close()
	defer client.Close()

	ctx := context.Background()
	var reply string
	client.Call(ctx, "chat:send?room=7", "hi", &reply)
	fmt.Println(reply)
	client.Call(ctx, "guild:send?room=1", "hey", &reply)
	fmt.Println(reply)

	conn, err := client.OpenChannel(ctx, "files:upper", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	conn.Write([]byte("raw bytes"))
	conn.CloseWrite()
	data, _ := io.ReadAll(conn)
	conn.Close()
	fmt.Println(string(data))
	fmt.Println(rt.Labels())
	// Output:
	// chat got "hi" in room 7
	// guild got "hey" in room 1
	// RAW BYTES
	// [chat:send files:upper guild:send]
}
