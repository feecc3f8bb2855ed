package demo

import (
	"log/slog"
	"sort"
	"strings"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/internal/check"
	"github.com/qtalkkit/qtalk/pubsub"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// LabelsSelector answers the labels a server offers, a []string.
const LabelsSelector = "qtalk:labels"

// A Server is the built-in services on one mux.
type Server struct {
	hub  *pubsub.Hub
	chat *Chat
	kv   *KV
	mux  *rpc.RespondMux
}

// New returns the built-in services, logging to log.
func New(log *slog.Logger) *Server {
	s := &Server{
		hub:  pubsub.NewHub(nil),
		chat: NewChat(log.With("type", "service", "id", "chat")),
		kv:   NewKV(log.With("type", "service", "id", "kv")),
		mux:  rpc.NewRespondMux(),
	}
	echo := rpc.NewRespondMux()
	echo.HandleFunc("echo", Echo)
	s.mux.Handle("echo:", echo)
	s.mux.Handle("chat:", must(fn.HandlerFor[ChatService](s.chat)))
	s.mux.Handle("kv:", must(fn.HandlerFrom(s.kv)))
	s.mux.Handle(check.Prefix, check.Handler())
	s.mux.Handle("pubsub:", s.hub.Handler())
	s.mux.Handle(LabelsSelector, LabelsHandler(s.mux))
	s.mux.Handle(talk.LabelPing, talk.PingHandler)
	return s
}

// must returns h, panicking on an error: the services' types are fixed,
// so an error is a programming error that the tests catch.
func must(h rpc.Handler, err error) rpc.Handler {
	if err != nil {
		panic(err)
	}
	return h
}

// Handler returns the handler of every service.
func (s *Server) Handler() rpc.Handler { return s.mux }

// Labels returns the selectors the server answers, sorted.
func (s *Server) Labels() []string { return Labels(s.mux) }

// Close ends the streams in progress (chat subscriptions, which then end
// without an error) and makes later subscriptions fail. Other calls go on
// working.
func (s *Server) Close() {
	s.chat.Close()
	s.hub.Close()
}

// Echo replies with its argument, one value of any type.
func Echo(r rpc.Responder, c *rpc.Call) {
	var v any
	if err := c.Receive(&v); err != nil {
		r.Error(err)
		return
	}
	r.Return(v)
}

// Labels returns the patterns of m, sorted, with those of the muxes
// registered under prefix patterns listed in full ("chat:" and its "send"
// make "chat:send"). A prefix pattern served by another kind of handler
// is listed as it is.
func Labels(m *rpc.RespondMux) []string {
	var labels []string
	var walk func(prefix string, m *rpc.RespondMux)
	walk = func(prefix string, m *rpc.RespondMux) {
		for _, p := range m.Patterns() {
			h, _, _ := m.Match(p)
			if sub, ok := h.(*rpc.RespondMux); ok && isPrefix(p) {
				walk(prefix+p, sub)
				continue
			}
			labels = append(labels, prefix+p)
		}
	}
	walk("", m)
	sort.Strings(labels)
	return labels
}

func isPrefix(p string) bool {
	return strings.HasSuffix(p, ":") || strings.HasSuffix(p, ".") || strings.HasSuffix(p, "/")
}

// LabelsHandler answers with Labels(m) as it is at the time of the call.
// It ignores its arguments.
func LabelsHandler(m *rpc.RespondMux) rpc.Handler {
	return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		r.Return(Labels(m))
	})
}
