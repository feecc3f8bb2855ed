package main

import (
	"errors"
	"log/slog"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/internal/check"
	"github.com/qtalkkit/qtalk/internal/demo"
	"github.com/qtalkkit/qtalk/pubsub"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/service"
)

// The modules of the built-in services, for configs:
//
//	[services]
//	chat = { provider = "local", module = "github.com/qtalkkit/qtalk/internal/demo/chat" }
const (
	moduleEcho   = "github.com/qtalkkit/qtalk/internal/demo/echo"
	moduleChat   = "github.com/qtalkkit/qtalk/internal/demo/chat"
	moduleKV     = "github.com/qtalkkit/qtalk/internal/demo/kv"
	moduleCheck  = "github.com/qtalkkit/qtalk/internal/check"
	modulePubsub = "github.com/qtalkkit/qtalk/pubsub"
)

func init() {
	service.RegisterModule(moduleEcho, func(m *service.Module) error {
		m.HandleFunc("echo", demo.Echo)
		return nil
	})
	service.RegisterModule(moduleChat, func(m *service.Module) error {
		chat := demo.NewChat(moduleLogger(m))
		chat.Observe(func(ev demo.Event) {
			// A closed module has no subscribers to tell.
			if err := m.Emit(ev.Type, ev); err != nil && !errors.Is(err, service.ErrNotOpen) {
				moduleLogger(m).Warn("event not emitted", "event", ev.Type, "err", err)
			}
		})
		m.OnShutdown(chat.Close) // ends the subscriptions
		m.OnClose(chat.Close)
		h, err := fn.HandlerFor[demo.ChatService](chat)
		if err != nil {
			return err
		}
		return handleAll(m, h)
	})
	service.RegisterModule(moduleKV, func(m *service.Module) error {
		h, err := fn.HandlerFrom(demo.NewKV(moduleLogger(m)))
		if err != nil {
			return err
		}
		return handleAll(m, h)
	})
	service.RegisterModule(moduleCheck, func(m *service.Module) error {
		return handleAll(m, check.Handler())
	})
	service.RegisterModule(modulePubsub, func(m *service.Module) error {
		hub := pubsub.NewHub(nil)
		m.OnShutdown(hub.Close) // ends the subscriptions
		m.OnClose(hub.Close)
		return handleAll(m, hub.Handler())
	})
}

// moduleLogger returns the logger of a module's service: the default
// logger, which serve sets, with type=service and the service's name.
func moduleLogger(m *service.Module) *slog.Logger {
	return slog.Default().With("type", "service", "id", m.Name())
}

// handleAll registers on m every name of h, an *rpc.RespondMux of exact
// names (as package fn makes them): the module routes a call by its name,
// which h then sees as its selector.
func handleAll(m *service.Module, h rpc.Handler) error {
	mux, ok := h.(*rpc.RespondMux)
	if !ok {
		return errors.New("not an *rpc.RespondMux")
	}
	for _, name := range mux.Patterns() {
		m.Handle(name, mux)
	}
	return nil
}
