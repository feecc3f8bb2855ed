package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
)

var cmdCall = &command{
	name:    "call",
	args:    "ADDR LABEL [ARGS]",
	summary: "call LABEL on the server at ADDR and print the result as JSON",
	help: `
Call dials ADDR, calls LABEL with ARGS, a JSON value, and prints the reply
as JSON on stdout. When ARGS is "-", or absent while stdin is not a
terminal, the arguments are read from stdin; otherwise they are null.
The call uses the JSON codec, so values pass through untyped; with --codec
cbor or msgpack it sends ARGS in that codec (integral numbers as integers)
and prints the values it gets back as JSON (byte strings in base64, map
keys as text). Labels served
with package fn (chat:, kv: in the built-in server) take an array of
arguments: '["alice","hello"]'. Put "--" before ARGS that start with "-".

A reply that continues (a stream) is printed one JSON value per line until
the server ends it; its first value is left out when it is null. With
--stream, each line of stdin is sent to the call as one JSON value (blank
lines skipped) and the end of stdin ends the client's stream, as for
check:sum. With --raw, the bytes that follow the reply are copied to
stdout and the bytes of stdin are sent, as for check:bytes; a label that
continues as raw bytes without --raw fails with a hint to use it.

With --trace, the call is traced: a span with a new trace id, whose W3C
trace context goes in the call's metadata (traceparent), written as a
JSON line to stdout or stderr or sent to an OpenTelemetry collector
(OTLP over HTTP); servers run with --trace continue the trace.

Waiting for the reply is bounded by --unary-timeout (30s unless set; 0
for no bound): that is the whole of a unary call, and the start of a
stream, which then runs until it ends or --timeout expires.

Connecting includes the server's answer to a qtalk:ping (except over
exec: and stdio:), so a server that accepts the connection and says
nothing fails within --timeout, or else 10s, as one that cannot be
reached; ls, describe, ping, check and bench connect the same way.

Exit status: 0 on success, 2 for a bad command line, address or ARGS, 1
when the server cannot be reached, does not answer, or speaks another
protocol (qtalk names the one its first bytes, or its answer to a
WebSocket upgrade, look like: HTTP, TLS, SSH, ...), and 10 + the rpc code when the call
fails: 11 canceled, 12 unknown, 13 invalid_argument, 14 deadline_exceeded,
15 not_found, 16 already_exists, 17 permission_denied, 18
resource_exhausted, 19 failed_precondition, 20 aborted, 21 out_of_range,
22 unimplemented, 23 internal, 24 unavailable, 25 data_loss, 26
unauthenticated.
` + tlsAddressHelp,
	example: `  qtalk call tcp://127.0.0.1:4242 echo:echo '"hello"'
  qtalk call tcp/$4:4242 kv:set '["greeting", {"text": "hi"}]'
  echo '["alice", "hello"]' | qtalk call ws://127.0.0.1:4243/qtalk chat:send -
  qtalk call --timeout 10s --meta trace=1 tcp://127.0.0.1:4242 chat:subscribe '["bob"]'
  seq 1 100 | qtalk call --stream tcp://127.0.0.1:4242 check:sum null
  qtalk call 'tls://127.0.0.1:4244?pin=sha256:9f86d0...' echo:echo '"hi"'
  qtalk call --ca ca.pem --client-cert me.pem --client-key me-key.pem wss://example.com/qtalk echo:echo '"hi"'`,
}

// dialTimeout bounds connecting when no --timeout does.
const dialTimeout = 10 * time.Second

// dial connects to addr and, unless it is a process's stdio (exec:,
// stdio:), waits for the server's answer to a qtalk:ping, within ctx or
// else dialTimeout: a server that accepts the connection and says
// nothing fails here with a *dialError, the exit status for a server
// that cannot be reached, instead of leaving the command's first call to
// wait for its whole timeout. It logs the connection at the debug level.
func dial(ctx context.Context, log *slog.Logger, addr string, opts ...talk.Option) (*talk.Peer, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dialTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	bound := time.Until(deadline).Round(time.Second)
	p, err := talk.Dial(ctx, addr, opts...)
	if errors.Is(err, transport.ErrBadAddress) {
		return nil, addressError("dial", err)
	}
	if ferr := foreign(addr, err); ferr != nil {
		return nil, ferr
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &dialError{addr: addr, err: noAnswer(bound)}
		}
		return nil, &dialError{addr: addr, err: err}
	}
	if a, _ := transport.ParseAddress(addr); a.Scheme != "exec" && a.Scheme != "stdio" {
		if err := awaitAnswer(ctx, addr, p, bound); err != nil {
			p.Close()
			return nil, err
		}
	}
	sess := p.Session()
	log.Debug("connected", "type", "client", "addr", addr, "local", sess.LocalAddr().String(), "remote", sess.RemoteAddr().String())
	return p, nil
}

// errNoAnswer is matched by the error for a server that accepted the
// connection but did not answer.
var errNoAnswer = errors.New("no answer")

func noAnswer(bound time.Duration) error {
	return fmt.Errorf("%w within %s: the server accepted the connection but said nothing (not a qtalk server, or a hung one)", errNoAnswer, bound)
}

// awaitAnswer waits within ctx for the peer at addr to answer a
// qtalk:ping. Any reply, an error of the peer's included, shows that it
// speaks qtalk.
func awaitAnswer(ctx context.Context, addr string, p *talk.Peer, bound time.Duration) error {
	_, err := p.Ping(ctx, 0)
	var re *rpc.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &dialError{addr: addr, err: noAnswer(bound)}
	case foreign(addr, err) != nil:
		return foreign(addr, err)
	case errors.As(err, &re) && re.Code != rpc.CodeUnavailable && re.Code != rpc.CodeCanceled:
		return nil // the peer's own error: it answered
	}
	return &dialError{addr: addr, err: err}
}

func runCall(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdCall)
	timeout := f.Duration("timeout", 0, "bound connecting and the whole call, a stream included (0: no bound but "+dialTimeout.String()+" to connect)")
	var meta stringList
	f.Var(&meta, "meta", "add `key=value` to the call's metadata (repeatable)")
	raw := f.Bool("raw", false, "after a continued reply, copy stdin to the call and the call's bytes to stdout")
	stream := f.Bool("stream", false, "after a continued reply, send each line of stdin as a JSON value, then end the stream")
	unaryTimeout := f.Duration("unary-timeout", defaultUnaryTimeout, "bound waiting for the reply: a unary call, the start of a stream (0: no bound)")
	codecName := f.String("codec", "json", "the call's `codec`: json, cbor or msgpack (ARGS and the output stay JSON)")
	traceDest := f.String("trace", "", traceFlagHelp)
	tlsFiles := f.clientTLSFlags()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) < 2:
		return usageErrorf("call: want ADDR LABEL [ARGS], got %d arguments (see qtalk call --help)", len(pos))
	case len(pos) > 3:
		return usageErrorf("call: want ADDR LABEL [ARGS], got %d arguments (quote ARGS as one JSON value)", len(pos))
	}
	addr, label := pos[0], pos[1]
	if err := checkAddress("call", addr); err != nil {
		return err
	}
	if *raw && *stream {
		return usageErrorf("call: --raw and --stream: give one of them")
	}
	md := rpc.Metadata{}
	for _, kv := range meta {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErrorf("call: --meta %q: want key=value", kv)
		}
		md[k] = v
	}
	codec, err := callCodec(*codecName)
	if err != nil {
		return err
	}
	argJSON, err := callArgs(e, pos[2:], *raw || *stream)
	if err != nil {
		return err
	}
	var sendArgs any = argJSON
	if codec != rpc.JSON {
		if sendArgs, err = genericFromJSON(argJSON); err != nil {
			return usageErrorf("call: ARGS: %v", err)
		}
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	log := f.logger(e)
	clientOpts := []rpc.ClientOption{rpc.WithCodec(codec)}
	trace, stopTrace, err := traceInterceptor("call", *traceDest, e, log)
	if err != nil {
		return err
	}
	defer stopTrace()
	if trace != nil {
		clientOpts = append(clientOpts, rpc.WithInterceptors(trace))
	}
	p, err := connect(ctx, "call", log, addr, tlsFiles)
	if err != nil {
		return err
	}
	defer p.Close()
	client := rpc.NewClient(p.Session(), clientOpts...)
	var opts []rpc.CallOption
	if len(md) > 0 {
		opts = append(opts, rpc.WithMetadata(md))
	}
	// callCtx ends with the cause of a failure the command finds itself:
	// no reply within --unary-timeout, a bad line of --stream.
	callCtx, cancelCall := context.WithCancelCause(ctx)
	defer cancelCall(nil)
	failed := func(err error) error {
		if ferr := foreign(addr, err); ferr != nil {
			return ferr
		}
		var ue *usageError
		switch cause := context.Cause(callCtx); {
		case errors.As(cause, &ue):
			return cause
		case errors.Is(cause, errNoReply):
			err = rpc.NewError(rpc.CodeDeadlineExceeded, fmt.Errorf("no reply within the --unary-timeout of %s", *unaryTimeout))
		}
		return &callError{label: label, err: err, timeout: *timeout}
	}

	reply := &jsonReply{codec: codec}
	var replyTimer *time.Timer
	if *unaryTimeout > 0 {
		replyTimer = time.AfterFunc(*unaryTimeout, func() { cancelCall(errNoReply) })
	}
	resp, err := client.Call(callCtx, label, sendArgs, reply, opts...)
	if replyTimer != nil {
		replyTimer.Stop()
	}
	if err != nil {
		return failed(err)
	}
	if !resp.Continue {
		return printJSON(e, reply.js)
	}
	defer resp.Close()
	if *raw {
		if err := copyRaw(e, resp); err != nil {
			return failed(ctxError(ctx, err))
		}
		return nil
	}
	nullReply := bytes.Equal(reply.js, []byte("null"))
	if !nullReply {
		if err := printJSON(e, reply.js); err != nil {
			return err
		}
	}
	if *stream {
		go sendLines(e, resp, codec, cancelCall)
	}
	for {
		v := &jsonReply{codec: codec}
		err := resp.Receive(v)
		if errors.Is(err, io.EOF) && ctxEnded(callCtx) == nil {
			return nil
		}
		if c := rpc.CodeOf(err); nullReply && (errors.Is(err, rpc.ErrMalformed) || c == rpc.CodeResourceExhausted) {
			// A raw channel replies null and continues with bytes, which
			// read as frames that are malformed or far too large.
			msg := err.Error()
			var re *rpc.Error
			if errors.As(err, &re) {
				msg = re.Message
			}
			err = rpc.NewError(c, fmt.Errorf("%s; if %s is a raw channel, call it with --raw", msg, label))
		}
		if err != nil {
			return failed(ctxError(callCtx, err))
		}
		if err := printJSON(e, v.js); err != nil {
			return err
		}
	}
}

// defaultUnaryTimeout is the default of call --unary-timeout.
const defaultUnaryTimeout = 30 * time.Second

// errNoReply is the cause of a call that had no reply within
// --unary-timeout.
var errNoReply = errors.New("no reply within --unary-timeout")

// sendLines sends each line of stdin to the continued call as one JSON
// value, blank lines skipped, and ends the client's stream at the end of
// stdin. A line that is not JSON, or over the maximum frame size, ends
// the call with a usage error as the cause of cancel; a failed send is
// left to the receiving side, which sees the call fail.
func sendLines(e *env, resp *rpc.Response, codec rpc.Codec, cancel context.CancelCauseFunc) {
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 0, 64<<10), rpc.DefaultMaxFrameSize)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			var v any
			err := json.Unmarshal(line, &v)
			cancel(usageErrorf("call: --stream: line %d of stdin is not valid JSON: %v", n, err))
			return
		}
		var v any = json.RawMessage(line)
		if codec != rpc.JSON {
			var err error
			if v, err = genericFromJSON(json.RawMessage(line)); err != nil {
				cancel(usageErrorf("call: --stream: line %d of stdin: %v", n, err))
				return
			}
		}
		if err := resp.Send(v); err != nil {
			return
		}
	}
	if err := sc.Err(); err != nil {
		cancel(usageErrorf("call: --stream: reading stdin: %v", err))
		return
	}
	resp.CloseSend()
}

// callCodec returns the codec --codec names. Protobuf is left out: its
// values need message types that JSON arguments do not name.
func callCodec(name string) (rpc.Codec, error) {
	switch name {
	case "json":
		return rpc.JSON, nil
	case "cbor":
		return rpc.CBOR, nil
	case "msgpack":
		return rpc.Msgpack, nil
	}
	return nil, usageErrorf("call: --codec %q: want json, cbor or msgpack", name)
}

// genericFromJSON decodes JSON arguments into a generic value for another
// codec, with integral numbers as integers, so that a handler expecting
// an integer gets one.
func genericFromJSON(data json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return integralNumbers(v), nil
}

// integralNumbers replaces every json.Number in v with an int64 or a
// uint64 when it is integral and fits, else a float64.
func integralNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return u
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i, e := range v {
			v[i] = integralNumbers(e)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = integralNumbers(e)
		}
	}
	return v
}

// A jsonReply receives a value of the call's codec as JSON: as it is from
// the JSON codec, re-encoded from a generic value from the others.
type jsonReply struct {
	codec rpc.Codec
	js    json.RawMessage
}

func (r *jsonReply) UnmarshalRaw(data []byte) error {
	if r.codec == rpc.JSON {
		if !json.Valid(data) {
			return errors.New("the reply is not valid JSON")
		}
		r.js = append(r.js[:0], data...)
		return nil
	}
	var v any
	if err := r.codec.Unmarshal(data, &v); err != nil {
		return err
	}
	js, err := rpc.JSON.Append(r.js[:0], v)
	r.js = js
	return err
}

// callArgs returns the JSON arguments of a call: the argument given, or
// stdin for "-" (and for none, unless stdin is a terminal or carries the
// call's stream: raw bytes or values), or null.
func callArgs(e *env, given []string, raw bool) (json.RawMessage, error) {
	var data []byte
	switch {
	case len(given) == 1 && given[0] != "-":
		data = []byte(given[0])
	case len(given) == 1 && raw:
		return nil, usageErrorf("call: with --raw or --stream, stdin carries the stream: give ARGS on the command line")
	case len(given) == 1 || (!raw && !e.stdinTTY):
		var err error
		if data, err = io.ReadAll(e.stdin); err != nil {
			return nil, fmt.Errorf("call: reading the arguments from stdin: %w", err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			if len(given) == 1 {
				return nil, usageErrorf("call: no arguments on stdin")
			}
			data = nil
		}
	}
	if data == nil {
		return json.RawMessage("null"), nil
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, usageErrorf("call: ARGS is not valid JSON: %v", err)
	}
	return json.RawMessage(data), nil
}

// ctxError returns the error of a continued call that failed or ended:
// ctx's, as an *rpc.Error with its code, when ctx ended (the channel was
// closed because it did: the server, told why, may have ended the stream
// just before), and err otherwise.
func ctxError(ctx context.Context, err error) error {
	if cerr := ctxEnded(ctx); cerr != nil {
		return rpc.NewError(rpc.CodeOf(cerr), cerr)
	}
	return err
}

// ctxEnded returns ctx's error, or context.DeadlineExceeded once its
// deadline has passed even if its timer has not fired yet. The server's
// copy of the deadline never passes before the client's, so a stream that
// the server ended for its deadline has reached the client's too.
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// printJSON prints one JSON value on a line of its own.
func printJSON(e *env, v json.RawMessage) error {
	if len(v) == 0 {
		v = json.RawMessage("null")
	}
	_, err := fmt.Fprintf(e.stdout, "%s\n", v)
	return err
}

// copyRaw copies stdin to the raw byte stream of resp and the stream to
// stdout, until the server ends its side.
func copyRaw(e *env, resp *rpc.Response) error {
	conn := resp.Conn()
	go func() {
		if _, err := io.Copy(conn, e.stdin); err == nil {
			conn.CloseWrite()
		}
	}()
	_, err := io.Copy(e.stdout, conn)
	return err
}
