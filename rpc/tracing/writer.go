package tracing

import (
	"encoding/json"
	"io"
	"sync"
)

// Writer is an Exporter that writes each span as one line of JSON: the
// fields of Span and its duration ("1.2ms").
type Writer struct {
	mu  sync.Mutex // guards enc
	enc *json.Encoder
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{enc: json.NewEncoder(w)} }

// line is a span as Writer writes it.
type line struct {
	Span
	Duration string `json:"duration"`
}

// Export writes s; a write error is ignored (spans are not worth failing
// a call for).
func (w *Writer) Export(s Span) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.enc.Encode(line{Span: s, Duration: s.End.Sub(s.Start).String()})
}
