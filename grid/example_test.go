package grid_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/qtalkkit/qtalk/grid"
	"github.com/qtalkkit/qtalk/transport"
)

// Two hosts on loopback: each serves "greet" and calls the other's.
func Example() {
	ctx := context.Background()
	var lns [2]transport.Listener
	var hosts []string
	for i := range lns {
		lns[i], _ = transport.Listen(ctx, "tcp://127.0.0.1:0")
		hosts = append(hosts, "tcp://"+lns[i].Addr().String())
	}
	var ms [2]*grid.Manager
	for i := range ms {
		ms[i], _ = grid.New(grid.Config{Self: hosts[i], Hosts: hosts, Listener: lns[i]})
		grid.HandleFunc(ms[i], "greet", func(ctx context.Context, name string) (string, error) {
			return "hello, " + strings.ToUpper(name), nil
		})
		ms[i].Start(ctx)
		defer ms[i].Close()
	}
	c, _ := ms[0].Connection(hosts[1])
	for c.State().Status != grid.Connected {
		<-c.Changed()
	}
	reply, err := grid.Call[string](ctx, c, "greet", "grid")
	fmt.Println(reply, err)
	// Output: hello, GRID <nil>
}
