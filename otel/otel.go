package qtalkotel

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
)

// instrumentation is the name of the tracer.
const instrumentation = "github.com/qtalkkit/qtalk/otel"

// Config configures Interceptor; nil or zero fields take the defaults.
type Config struct {
	// TracerProvider makes the tracer; by default otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// Propagator carries the trace in the metadata; by default the W3C
	// trace context (propagation.TraceContext).
	Propagator propagation.TextMapPropagator
}

// Interceptor returns an interceptor that traces calls on clients
// (rpc.WithInterceptors) and servers (rpc.Intercept).
func Interceptor(cfg *Config) rpc.Interceptor {
	i := &interceptor{}
	var tp trace.TracerProvider
	if cfg != nil {
		tp, i.prop = cfg.TracerProvider, cfg.Propagator
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if i.prop == nil {
		i.prop = propagation.TraceContext{}
	}
	i.tracer = tp.Tracer(instrumentation)
	return i
}

type interceptor struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// carrier is call metadata as a propagation.TextMapCarrier.
type carrier rpc.Metadata

func (c carrier) Get(key string) string { return c[key] }
func (c carrier) Set(key, value string) { c[key] = value }
func (c carrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// attributes are the rpc semantic-convention attributes of selector.
func attributes(selector string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attribute.String("rpc.system", "qtalk")}
	if l, err := label.Parse(selector); err == nil {
		attrs = append(attrs, attribute.String("rpc.service", l.Module), attribute.String("rpc.method", l.Name))
	}
	return attrs
}

// end records code on span and ends it.
func end(span trace.Span, code rpc.Code, err error) {
	span.SetAttributes(attribute.String("rpc.qtalk.code", code.String()))
	if code != rpc.CodeOK {
		msg := code.String()
		if err != nil {
			msg = err.Error()
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

func (i *interceptor) WrapCall(next rpc.CallFunc) rpc.CallFunc {
	return func(ctx context.Context, call *rpc.OutgoingCall) (*rpc.Response, error) {
		ctx, span := i.tracer.Start(ctx, call.Selector, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attributes(call.Selector)...))
		i.prop.Inject(ctx, carrier(call.Metadata))
		resp, err := next(ctx, call)
		end(span, rpc.CodeOf(err), err)
		return resp, err
	}
}

func (i *interceptor) WrapHandler(next rpc.Handler) rpc.Handler {
	return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		ctx := i.prop.Extract(context.Background(), carrier(c.Metadata))
		_, span := i.tracer.Start(ctx, c.FullSelector, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attributes(c.FullSelector)...))
		rec := &rpc.CodeRecorder{Responder: r}
		defer func() { end(span, rec.Code, nil) }()
		next.RespondRPC(rec, c)
	})
}
