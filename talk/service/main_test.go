package service_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// childEnv, when set, makes the test binary run as a worker process
// instead of running the tests: an exec provider's child, which serves
// worker:hello and the raw channel worker:upper over stdio.
const childEnv = "QTALK_SERVICE_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "worker":
		os.Exit(runWorker())
	case "":
	default:
		os.Exit(runProcessChild(os.Getenv(childEnv)))
	}
	goleak.VerifyTestMain(m)
}

// runWorker serves a talk.Router over stdio until the parent goes away.
func runWorker() int {
	rt := talk.NewRouter()
	rt.HandleFunc("worker:hello", func(r rpc.Responder, c *rpc.Call) {
		var name string
		if err := c.Receive(&name); err != nil {
			r.Error(err)
			return
		}
		r.Return("hello " + name + " from pid " + strconv.Itoa(os.Getpid()))
	})
	rt.HandleChannel("worker:upper", talk.ChannelHandlerFunc(func(ctx context.Context, conn mux.Channel, l label.Label) {
		data, _ := io.ReadAll(conn)
		conn.Write([]byte(strings.ToUpper(string(data))))
	}))
	p, err := talk.Dial(context.Background(), "stdio:", talk.WithHandler(rt))
	if err != nil {
		return 1
	}
	<-p.Context().Done()
	p.Close()
	return 0
}
