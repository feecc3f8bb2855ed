package relay_test

import (
	"crypto/sha256"
	"io"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// echoChild, as the first argument of the test binary, makes it serve
// echoHash over its stdin and stdout instead of running the tests: the
// target of exec: pipes.
const echoChild = "relay-echo-child"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == echoChild {
		echoHash(stdio{})
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// stdio is the process's stdin and stdout as one connection.
type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return os.Stdout.Close() }

// echoHash writes back every byte it reads from conn and, at the end of
// them, the SHA-256 of all of them; then it closes conn.
func echoHash(conn io.ReadWriteCloser) {
	defer conn.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(conn, h), conn); err != nil {
		return
	}
	conn.Write(h.Sum(nil))
}
