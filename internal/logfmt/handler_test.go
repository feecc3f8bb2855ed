package logfmt_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/logfmt"
)

var when = time.Date(2026, 11, 21, 23, 40, 0, 670_000_000, time.Local)

// handle logs one record at when through h with the attributes of with
// (through Logger.With) and attrs, and returns the line written.
func handle(t *testing.T, level slog.Level, with []any, msg string, attrs ...any) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = logfmt.New(&buf, &logfmt.Options{Level: slog.LevelDebug})
	h = slog.New(h).With(with...).Handler()
	r := slog.NewRecord(when, level, msg, 0)
	r.Add(attrs...)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return buf.String()
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level slog.Level
		with  []any
		msg   string
		attrs []any
		want  string
	}{
		{"plain", slog.LevelInfo, nil, "started", nil,
			"[2026-11-21 23:40:00.670 INFO] started\n"},
		{"type and id", slog.LevelInfo, []any{"type", "session", "id", 3}, "call",
			[]any{"selector", "chat:send", "duration", 1500 * time.Microsecond},
			"[2026-11-21 23:40:00.670 INFO session/3] call selector=chat:send duration=1.5ms\n"},
		{"type only", slog.LevelWarn, []any{"type", "server"}, "stopping", nil,
			"[2026-11-21 23:40:00.670 WARN server] stopping\n"},
		{"type in record overrides", slog.LevelDebug, []any{"type", "service", "id", "kv"}, "m",
			[]any{"id", "chat"},
			"[2026-11-21 23:40:00.670 DEBUG service/chat] m\n"},
		{"quoting", slog.LevelError, nil, "failed",
			[]any{"err", errors.New("no such key"), "empty", "", "eq", "a=b", "q", `say "hi"`, "nl", "a\nb", "ok", "x:y/z"},
			`[2026-11-21 23:40:00.670 ERROR] failed err="no such key" empty="" eq="a=b" q="say \"hi\"" nl="a\nb" ok=x:y/z` + "\n"},
		{"groups", slog.LevelInfo, nil, "m",
			[]any{slog.Group("peer", "addr", "127.0.0.1:1", slog.Group("tls", "on", true)), slog.Group("empty")},
			"[2026-11-21 23:40:00.670 INFO] m peer.addr=127.0.0.1:1 peer.tls.on=true\n"},
		{"bracket quoting", slog.LevelInfo, []any{"type", "config", "id", "/etc/my qtalk.toml"}, "loaded", nil,
			`[2026-11-21 23:40:00.670 INFO config/"/etc/my qtalk.toml"] loaded` + "\n"},
		{"bracket forgery", slog.LevelInfo, []any{"type", "a/b", "id", "x] fake"}, "m", nil,
			`[2026-11-21 23:40:00.670 INFO "a/b"/"x] fake"] m` + "\n"},
		{"id with a slash", slog.LevelInfo, []any{"type", "provider", "id", "tcp://h:1"}, "m", nil,
			"[2026-11-21 23:40:00.670 INFO provider/tcp://h:1] m\n"},
		{"message on two lines", slog.LevelWarn, nil, "panic: boom\n[2026-11-21 23:40:00.670 INFO] forged", nil,
			`[2026-11-21 23:40:00.670 WARN] "panic: boom\n[2026-11-21 23:40:00.670 INFO] forged"` + "\n"},
		{"type inside a group is an attribute", slog.LevelInfo, nil, "m",
			[]any{slog.Group("g", "type", "x")},
			"[2026-11-21 23:40:00.670 INFO] m g.type=x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := handle(t, tc.level, tc.with, tc.msg, tc.attrs...); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestWithGroup(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logfmt.New(&buf, nil)).With("type", "listener", "id", 1).WithGroup("net").With("addr", "x")
	log.Info("listening", "port", 4242)
	got := buf.String()
	want := "INFO listener/1] listening net.addr=x net.port=4242\n"
	if !strings.HasSuffix(got, want) {
		t.Errorf("got %q, want a line ending in %q", got, want)
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logfmt.New(&buf, nil))
	log.Debug("hidden")
	log.Info("shown")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "shown") {
		t.Errorf("at the default level, got %q; want only the INFO record", got)
	}
}

func TestZeroTime(t *testing.T) {
	var buf bytes.Buffer
	h := logfmt.New(&buf, nil)
	if err := h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "[INFO] m\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Records logged concurrently come out as whole lines.
func TestConcurrent(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logfmt.New(&buf, nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				log.Info("line", "worker", i, "pad", strings.Repeat("x", 200))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("got %d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "[") || !strings.HasSuffix(l, strings.Repeat("x", 200)) {
			t.Fatalf("mangled line %q", l)
		}
	}
}
