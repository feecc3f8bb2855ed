package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// OTLP defaults.
const (
	DefaultServiceName = "qtalk"
	DefaultInterval    = time.Second
	DefaultQueueSize   = 2048
	DefaultBatchSize   = 512
	DefaultTimeout     = 10 * time.Second
)

// OTLPConfig configures an OTLP exporter; zero fields take the defaults.
type OTLPConfig struct {
	// Endpoint is the collector's URL: http://host:4318 posts to
	// http://host:4318/v1/traces; a URL with a path posts to that path.
	Endpoint string
	// ServiceName is the service.name of the spans' resource;
	// DefaultServiceName by default.
	ServiceName string
	// Interval is the longest a span waits to be sent; DefaultInterval
	// by default. A batch of BatchSize spans leaves at once.
	Interval time.Duration
	// QueueSize bounds the spans waiting to be sent; spans that find
	// the queue full are dropped and counted (OTLP.Dropped).
	// DefaultQueueSize by default.
	QueueSize int
	// BatchSize bounds the spans of one request; DefaultBatchSize by
	// default.
	BatchSize int
	// Timeout bounds one request; DefaultTimeout by default.
	Timeout time.Duration
	// OnError, if set, is called with the error of each request that
	// failed (its spans are dropped), from the exporter's goroutine.
	OnError func(error)
}

// An OTLP is an Exporter that sends spans in batches to an OpenTelemetry
// collector, over HTTP with the JSON encoding of OTLP (POST
// /v1/traces). Its goroutine, started by NewOTLP, is its only sender;
// Close flushes the spans queued and stops it.
type OTLP struct {
	cfg     OTLPConfig
	url     string
	client  *http.Client
	queue   chan Span     // bounded by cfg.QueueSize
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when run returns
	once    sync.Once
	dropped atomic.Uint64
}

// ErrBadEndpoint matches the error of NewOTLP for an endpoint that is no
// http or https URL.
var ErrBadEndpoint = errors.New("tracing: bad OTLP endpoint")

// NewOTLP returns an exporter to cfg.Endpoint and starts its goroutine.
func NewOTLP(cfg OTLPConfig) (*OTLP, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w %q: want http://HOST:PORT[/PATH] or https://...", ErrBadEndpoint, cfg.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = DefaultServiceName
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	o := &OTLP{cfg: cfg, url: u.String(), client: &http.Client{Timeout: cfg.Timeout},
		queue: make(chan Span, cfg.QueueSize), stop: make(chan struct{}), done: make(chan struct{})}
	go o.run()
	return o, nil
}

// Export queues s, or drops it if the queue is full or the exporter
// closed.
func (o *OTLP) Export(s Span) {
	select {
	case <-o.stop:
		o.dropped.Add(1)
		return
	default:
	}
	select {
	case o.queue <- s:
	default:
		o.dropped.Add(1)
	}
}

// Dropped returns how many spans were dropped: the queue was full, a
// request failed, or the exporter was closed.
func (o *OTLP) Dropped() uint64 { return o.dropped.Load() }

// Close sends the spans queued and stops the exporter. It returns ctx's
// error if ctx ends first; the spans not sent then are dropped.
func (o *OTLP) Close(ctx context.Context) error {
	o.once.Do(func() { close(o.stop) })
	select {
	case <-o.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run sends the queued spans every Interval, or as soon as a batch is
// full, until Close; then it sends what is left.
func (o *OTLP) run() {
	defer close(o.done)
	tick := time.NewTicker(o.cfg.Interval)
	defer tick.Stop()
	var batch []Span
	for {
		select {
		case s := <-o.queue:
			if batch = append(batch, s); len(batch) >= o.cfg.BatchSize {
				batch = o.send(batch)
			}
		case <-tick.C:
			batch = o.send(batch)
		case <-o.stop:
			for {
				select {
				case s := <-o.queue:
					if batch = append(batch, s); len(batch) >= o.cfg.BatchSize {
						batch = o.send(batch)
					}
				default:
					o.send(batch)
					return
				}
			}
		}
	}
}

// send posts batch and returns it emptied.
func (o *OTLP) send(batch []Span) []Span {
	if len(batch) == 0 {
		return batch
	}
	if err := o.post(batch); err != nil {
		o.dropped.Add(uint64(len(batch)))
		if o.cfg.OnError != nil {
			o.cfg.OnError(err)
		}
	}
	return batch[:0]
}

func (o *OTLP) post(batch []Span) error {
	body, err := json.Marshal(o.request(batch))
	if err != nil {
		return err
	}
	resp, err := o.client.Post(o.url, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("tracing: sending %d spans: %w", len(batch), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("tracing: sending %d spans to %s: %s", len(batch), o.url, resp.Status)
	}
	return nil
}

// The OTLP JSON encoding (opentelemetry-proto, ExportTraceServiceRequest):
// ids in hex, times as decimal strings of nanoseconds.
type (
	otlpRequest struct {
		ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	}
	otlpResourceSpans struct {
		Resource   otlpResource     `json:"resource"`
		ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
	}
	otlpResource struct {
		Attributes []otlpKeyValue `json:"attributes"`
	}
	otlpScopeSpans struct {
		Scope otlpScope  `json:"scope"`
		Spans []otlpSpan `json:"spans"`
	}
	otlpScope struct {
		Name string `json:"name"`
	}
	otlpSpan struct {
		TraceID      string         `json:"traceId"`
		SpanID       string         `json:"spanId"`
		ParentSpanID string         `json:"parentSpanId,omitempty"`
		Name         string         `json:"name"`
		Kind         int            `json:"kind"`
		Start        string         `json:"startTimeUnixNano"`
		End          string         `json:"endTimeUnixNano"`
		Attributes   []otlpKeyValue `json:"attributes"`
		Status       otlpStatus     `json:"status"`
	}
	otlpKeyValue struct {
		Key   string    `json:"key"`
		Value otlpValue `json:"value"`
	}
	otlpValue struct {
		StringValue string `json:"stringValue"`
	}
	otlpStatus struct {
		Code    int    `json:"code,omitempty"` // 2: error
		Message string `json:"message,omitempty"`
	}
)

// OTLP span kinds.
var otlpKinds = map[string]int{KindServer: 2, KindClient: 3}

// instrumentation names the scope of the spans.
const instrumentation = "github.com/qtalkkit/qtalk/rpc/tracing"

func (o *OTLP) request(batch []Span) otlpRequest {
	spans := make([]otlpSpan, len(batch))
	for i, s := range batch {
		os := otlpSpan{TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentID, Name: s.Name, Kind: otlpKinds[s.Kind],
			Start: strconv.FormatInt(s.Start.UnixNano(), 10), End: strconv.FormatInt(s.End.UnixNano(), 10)}
		for _, k := range []string{"rpc.system", "rpc.service", "rpc.method", "rpc.qtalk.code"} {
			if v, ok := s.Attributes[k]; ok {
				os.Attributes = append(os.Attributes, otlpKeyValue{k, otlpValue{v}})
			}
		}
		if s.Error != "" {
			os.Status = otlpStatus{Code: 2, Message: s.Error}
		}
		spans[i] = os
	}
	return otlpRequest{ResourceSpans: []otlpResourceSpans{{
		Resource:   otlpResource{Attributes: []otlpKeyValue{{"service.name", otlpValue{o.cfg.ServiceName}}}},
		ScopeSpans: []otlpScopeSpans{{Scope: otlpScope{Name: instrumentation}, Spans: spans}},
	}}}
}
