package service_test

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

const localConfig = `
listen = "tcp://127.0.0.1:0"

[services]
chat  = { provider = "local", module = "example.net/chat", options = { greeting = "hi" } }
guild = { provider = "local", module = "example.net/chat" }
`

// Two services of one module are two namespaces with instances of their
// own; parameters reach the handler without taking part in routing.
func TestLocalServices(t *testing.T) {
	srv, _ := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	for sel, want := range map[string]string{
		"chat:whoami":           "chat p= hi",
		"guild:whoami?p=7":      "guild p=7 ",
		"chat:whoami?x=1&p=%3F": "chat p=? hi",
	} {
		if got := mustCall(t, p, sel, nil); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	for sel, code := range map[string]rpc.Code{
		"chat:nope":           rpc.CodeNotFound,
		"nope:whoami":         rpc.CodeNotFound,
		"not a label":         rpc.CodeNotFound,
		"qtalk:nope":          rpc.CodeNotFound,
		"evil.example/x:y":    rpc.CodePermissionDenied,
		"127.0.0.1/chat:send": rpc.CodePermissionDenied,
	} {
		_, err := call(t, p, sel, nil)
		checkCode(t, sel, err, code)
	}

	// Streams and raw channels.
	resp, err := p.Call(testCtx(t), "chat:count", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for {
		var x int
		if err := resp.Receive(&x); err != nil {
			if err != io.EOF {
				t.Error(err)
			}
			break
		}
		got = append(got, x)
	}
	resp.Close()
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("chat:count 3 streamed %v", got)
	}
	conn, err := p.OpenChannel(testCtx(t), "guild:upper", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("raw"))
	conn.CloseWrite()
	if data, err := io.ReadAll(conn); err != nil || string(data) != "RAW" {
		t.Errorf("guild:upper: %q, %v", data, err)
	}
	conn.Close()
}

func TestLabelsAndServices(t *testing.T) {
	srv, _ := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	var labels []string
	if _, err := p.Call(testCtx(t), service.LabelLabels, nil, &labels); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chat:whoami", "chat:upper", "guild:send", service.LabelLabels, service.LabelSubscribe, talk.LabelPing} {
		if !slices.Contains(labels, want) {
			t.Errorf("qtalk:labels = %q, missing %s", labels, want)
		}
	}
	if !slices.IsSorted(labels) {
		t.Errorf("qtalk:labels not sorted: %q", labels)
	}
	if _, err := p.Ping(testCtx(t), 100); err != nil {
		t.Errorf("Ping: %v", err)
	}
	var infos []service.ServiceInfo
	if _, err := p.Call(testCtx(t), service.LabelServices, nil, &infos); err != nil {
		t.Fatal(err)
	}
	want := []service.ServiceInfo{
		{Name: "chat", Provider: "local", Module: chatModule, Open: true},
		{Name: "guild", Provider: "local", Module: chatModule, Open: true},
	}
	if !reflect.DeepEqual(infos, want) {
		t.Errorf("qtalk:services = %+v, want %+v", infos, want)
	}
}

// Subscribers get the state first, then the events of the module and of
// its lifecycle; a reload reopens a module that closed itself.
func TestEvents(t *testing.T) {
	srv, _ := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	other := dial(t, addrOf(srv))
	sub := subscribe(t, p, "chat")
	all := subscribe(t, other, service.SubscribeAll)
	expectEvent(t, sub, "chat/open")
	expectEvent(t, all, "chat/open")
	expectEvent(t, all, "guild/open")

	if got := mustCall(t, other, "chat:send", "hello"); got != "sent: hello" {
		t.Errorf("chat:send = %q", got)
	}
	if ev := expectEvent(t, sub, "chat/message"); ev.Param != "hello" || ev.Service() != "chat" || ev.Event() != "message" {
		t.Errorf("event %+v", ev)
	}
	expectEvent(t, all, "chat/message")

	// A client going away closes nothing, and events of guild do not
	// reach chat's subscriber: its next event is chat's own close.
	other.Close()
	mustCall(t, p, "guild:send", "for guild")
	mustCall(t, p, "chat:close", nil)
	expectEvent(t, sub, "chat/close")
	_, err := call(t, p, "chat:whoami", nil)
	checkCode(t, "a call to a closed module", err, rpc.CodeUnavailable)

	if err := srv.Reload(srv.Config()); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, sub, "chat/open")
	mustCall(t, p, "chat:whoami", nil)

	if _, err := service.Subscribe(testCtx(t), p.Client(), "nope"); !errors.Is(err, rpc.ErrNotFound) {
		t.Errorf("Subscribe to an unknown service: %v", err)
	}
}

func TestModuleErrors(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		is         error
		line       int
		key        string
	}{
		{"unknown", "[services]\n\nchat = { provider = \"local\", module = \"example.net/none\" }", service.ErrUnknownModule, 3, "services.chat.module"},
		{"broken", "[services.db]\nprovider = \"local\"\nmodule = \"example.net/broken\"", service.ErrModuleFailed, 3, "services.db.module"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.text), "q.toml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = service.New(cfg)
			var ce *config.Error
			if !errors.As(err, &ce) || !errors.Is(err, tt.is) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("New: %v, want a *config.Error matching %v", err, tt.is)
			}
			if ce.Line != tt.line || ce.Key != tt.key {
				t.Errorf("error %v: line %d, key %s; want %d, %s", err, ce.Line, ce.Key, tt.line, tt.key)
			}
		})
	}
}

func TestEmitErrors(t *testing.T) {
	srv, _ := startServer(t, "[services]\ne = { provider = \"local\", module = \"example.net/emitter\" }")
	made := <-emitters
	if !errors.Is(made.early, service.ErrNotOpen) {
		t.Errorf("Emit before open: %v, want ErrNotOpen", made.early)
	}
	m := made.m
	for _, ev := range []string{"open", "close", "a b", ""} {
		if err := m.Emit(ev, nil); !errors.Is(err, service.ErrBadEvent) {
			t.Errorf("Emit(%q): %v, want ErrBadEvent", ev, err)
		}
	}
	closed := make(chan struct{})
	m.OnClose(func() { close(closed) })
	srv.Close()
	<-closed
	if err := m.Emit("late", nil); !errors.Is(err, service.ErrNotOpen) {
		t.Errorf("Emit after close: %v, want ErrNotOpen", err)
	}
	if m.Context().Err() == nil {
		t.Error("the module's context is alive after Close")
	}
}

// emitters receives the modules example.net/emitter makes, with the
// error of an Emit in the factory.
var emitters = make(chan emitter, 1)

type emitter struct {
	m     *service.Module
	early error
}

func init() {
	service.RegisterModule("example.net/emitter", func(m *service.Module) error {
		emitters <- emitter{m, m.Emit("early", nil)}
		return nil
	})
}

// hookServer is the server whose methods the factory and the OnClose
// functions of example.net/hooked call; hookCalls gets what they saw.
var (
	hookServer atomic.Pointer[service.Server]
	hookCalls  = make(chan string, 4)
)

func init() {
	service.RegisterModule("example.net/hooked", func(m *service.Module) error {
		srv := hookServer.Load()
		hookCalls <- fmt.Sprintf("factory of %s: %d listeners", m.Name(), len(srv.Addrs()))
		m.OnClose(func() {
			hookCalls <- fmt.Sprintf("OnClose of %s: %d services", m.Name(), len(srv.Config().Services))
			srv.Addrs()
		})
		return nil
	})
}

// The factories and OnClose functions of modules run without the locks
// of the server, so they can call its methods: whether a reload opens
// and closes them, or undoes what it did when a later module fails.
func TestHooksCallServer(t *testing.T) {
	srv, _ := startServer(t, localConfig)
	hookServer.Store(srv)
	withHooked := func(extra string) *config.Config {
		t.Helper()
		cfg, err := config.Parse([]byte(localConfig+"hooked = { provider = \"local\", module = \"example.net/hooked\" }\n"+extra), "hooked.toml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	want := func(msg string) {
		t.Helper()
		if got := <-hookCalls; got != msg {
			t.Errorf("hook: %q, want %q", got, msg)
		}
	}

	if err := srv.Reload(withHooked("")); err != nil {
		t.Fatal(err)
	}
	want("factory of hooked: 1 listeners")
	if err := srv.Reload(srv.Config()); err != nil { // keeps hooked as it is
		t.Fatal(err)
	}
	localOnly, err := config.Parse([]byte(localConfig), "local.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Reload(localOnly); err != nil {
		t.Fatal(err)
	}
	want("OnClose of hooked: 2 services") // the new config is in effect

	err = srv.Reload(withHooked("db = { provider = \"local\", module = \"example.net/broken\" }"))
	if !errors.Is(err, service.ErrModuleFailed) {
		t.Fatalf("Reload with a broken module: %v, want ErrModuleFailed", err)
	}
	want("factory of hooked: 1 listeners")
	want("OnClose of hooked: 2 services")
}

// A subscriber that falls too far behind loses its subscription: the
// server ends it with rpc.CodeResourceExhausted, after some of the events
// it could take, in order and with no gap, rather than hold up the module
// or skip events without a word.
func TestSlowSubscriberDropped(t *testing.T) {
	srv, _ := startServer(t, localConfig)
	slow := subscribe(t, dial(t, addrOf(srv)), "chat")
	// Far more events than the subscription's channel window and its
	// buffer hold, while the subscriber reads none.
	const n = 100000
	if got := mustCall(t, dial(t, addrOf(srv)), "chat:flood", n); got != "flooded" {
		t.Fatalf("chat:flood = %q", got)
	}
	want := service.Event{Name: "chat/open"}
	for i := 0; ; i++ {
		ev, err := slow.Next()
		if err != nil {
			checkCode(t, fmt.Sprintf("the slow subscription after %d of %d events", i, n+1), err, rpc.CodeResourceExhausted)
			return
		}
		if ev.Name != want.Name || fmt.Sprint(ev.Param) != fmt.Sprint(want.Param) {
			t.Fatalf("event %d: %s %v, want %s %v", i, ev.Name, ev.Param, want.Name, want.Param)
		}
		want = service.Event{Name: "chat/tick", Param: i}
	}
}

// TestHugeSelectorQuotedBounded: the error for a 4 MiB selector quotes a
// bounded prefix of it, so the error frame stays far below the frame
// limit the client enforces (it quoted the label twice: 8 MiB).
func TestHugeSelectorQuotedBounded(t *testing.T) {
	srv, _ := startServer(t, localConfig)
	p := dial(t, addrOf(srv))
	_, err := call(t, p, strings.Repeat("x", 4<<20-64), nil)
	checkCode(t, "a 4 MiB selector", err, rpc.CodeNotFound)
	if n := len(err.Error()); n > 4<<10 {
		t.Errorf("the error for a 4 MiB selector is %d bytes long, want a bounded quote", n)
	}
}
