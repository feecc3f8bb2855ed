package transport_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/transport"
)

// childEnv, when set, makes the test binary run as the child of an exec
// test instead of running the tests. Its value is the role:
//
//	echo   serve echo channels over stdio until the session ends
//	exit0  exit with status 0 at once
//	exit3  exit with status 3 at once
//	hang   sleep, ignoring stdin, until killed
const childEnv = "QTALK_TEST_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	goleak.VerifyTestMain(m)
}

func runChild(role string) int {
	switch role {
	case "echo":
		ctx := context.Background()
		ln, err := transport.Listen(ctx, "stdio:")
		if err != nil {
			return 10
		}
		s, err := ln.Accept(ctx)
		if err != nil {
			return 11
		}
		serveEcho(s)
		return 0
	case "exit0":
		return 0
	case "exit3":
		return 3
	case "hang":
		time.Sleep(time.Hour)
		return 0
	}
	return 12
}
