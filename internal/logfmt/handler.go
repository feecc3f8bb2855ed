package logfmt

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Keys of the attributes shown in the bracket as type/id.
const (
	TypeKey = "type"
	IDKey   = "id"
)

// timeFormat is the layout of the time in the bracket.
const timeFormat = "2006-01-02 15:04:05.000"

// Options configure a Handler.
type Options struct {
	// Level is the minimum level logged; nil means slog.LevelInfo.
	Level slog.Leveler
}

// A Handler writes records in the format of the package documentation.
// It is safe for concurrent use: each record is written with one Write.
type Handler struct {
	w     io.Writer
	mu    *sync.Mutex // guards w, shared by the handlers derived from one another
	level slog.Leveler

	typ, id string // from WithAttrs at the top level
	group   string // the open groups, each followed by a dot
	attrs   []byte // the attributes of WithAttrs, formatted
}

var _ slog.Handler = (*Handler)(nil)

// New returns a handler that writes to w; opts may be nil.
func New(w io.Writer, opts *Options) *Handler {
	h := &Handler{w: w, mu: new(sync.Mutex), level: slog.LevelInfo}
	if opts != nil && opts.Level != nil {
		h.level = opts.Level
	}
	return h
}

// Enabled reports whether level is at least the handler's level.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// WithAttrs returns a handler whose records carry attrs too.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = h2.appendAttr(h2.attrs, h2.group, a, &h2.typ, &h2.id)
	}
	return &h2
}

// WithGroup returns a handler whose later attributes are in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group = h.group + name + "."
	return &h2
}

// Handle writes r as one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	typ, id := h.typ, h.id
	var attrs []byte
	r.Attrs(func(a slog.Attr) bool {
		attrs = h.appendAttr(attrs, h.group, a, &typ, &id)
		return true
	})

	buf := make([]byte, 0, 128+len(h.attrs)+len(attrs)+len(r.Message))
	buf = append(buf, '[')
	if !r.Time.IsZero() {
		buf = r.Time.AppendFormat(buf, timeFormat)
		buf = append(buf, ' ')
	}
	buf = append(buf, r.Level.String()...)
	if typ != "" {
		buf = append(buf, ' ')
		buf = appendQuotedIf(buf, typ, needsQuoting(typ) || strings.ContainsAny(typ, "/]"))
		if id != "" {
			buf = append(buf, '/')
			buf = appendQuotedIf(buf, id, needsQuoting(id) || strings.ContainsRune(id, ']'))
		}
	}
	buf = append(buf, "] "...)
	buf = appendQuotedIf(buf, r.Message, !printable(r.Message))
	buf = append(buf, h.attrs...)
	buf = append(buf, attrs...)
	buf = append(buf, '\n')

	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(buf)
	return err
}

// appendAttr appends " key=value" for a, with the keys of groups prefixed
// by group. At the top level (group empty), the type and id attributes
// are stored in *typ and *id instead.
func (h *Handler) appendAttr(b []byte, group string, a slog.Attr, typ, id *string) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b // slog's rule: empty attributes are ignored
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return b
		}
		if a.Key != "" {
			group += a.Key + "."
		}
		for _, ga := range attrs {
			b = h.appendAttr(b, group, ga, typ, id)
		}
		return b
	}
	if group == "" {
		switch a.Key {
		case TypeKey:
			*typ = formatValue(a.Value)
			return b
		case IDKey:
			*id = formatValue(a.Value)
			return b
		}
	}
	b = append(b, ' ')
	b = appendMaybeQuoted(b, group+a.Key)
	b = append(b, '=')
	return appendMaybeQuoted(b, formatValue(a.Value))
}

// formatValue returns the text of a resolved, non-group value.
func formatValue(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return v.String()
}

// appendMaybeQuoted appends s, quoted if it would not read back as one
// field.
func appendMaybeQuoted(b []byte, s string) []byte {
	return appendQuotedIf(b, s, needsQuoting(s))
}

// appendQuotedIf appends s, quoted as a Go string if quote is set.
func appendQuotedIf(b []byte, s string, quote bool) []byte {
	if quote {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// needsQuoting reports whether s would not read back as one field.
func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r == '=' || r == '"' || r == ' ' {
			return true
		}
	}
	return !printable(s)
}

// printable reports whether s is valid UTF-8 with no control characters
// nor spaces other than ' ', which could split a line or fake another.
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r != ' ' && (unicode.IsSpace(r) || !unicode.IsPrint(r)) {
			return false
		}
	}
	return true
}
