package logfmt_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/qtalkkit/qtalk/internal/logfmt"
)

// A logger for one session: type and id go in the bracket, the other
// attributes follow the message, quoted where needed.
func Example() {
	h := logfmt.New(os.Stdout, &logfmt.Options{Level: slog.LevelDebug})
	log := slog.New(noTime{h}).With("type", "session", "id", 3)
	log.Info("session opened", "remote", "127.0.0.1:52114")
	log.Debug("call", "selector", "chat:send", "err", "no such room")
	// Output:
	// [INFO session/3] session opened remote=127.0.0.1:52114
	// [DEBUG session/3] call selector=chat:send err="no such room"
}

// noTime passes records on without their time, which a handler leaves
// out, for output that does not vary.
type noTime struct{ slog.Handler }

func (h noTime) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Time{}
	return h.Handler.Handle(ctx, r)
}

func (h noTime) WithAttrs(attrs []slog.Attr) slog.Handler {
	return noTime{h.Handler.WithAttrs(attrs)}
}

func (h noTime) WithGroup(name string) slog.Handler { return noTime{h.Handler.WithGroup(name)} }
