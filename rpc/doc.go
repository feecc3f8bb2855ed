// Package rpc makes and serves calls over a mux.Session, one channel per
// call, with an API shaped like net/http: a Handler answers calls, a
// RespondMux routes them by selector, a Server serves sessions. Both ends
// of a session may serve and call at once, so a server can call back the
// client that called it. The wire format is specified in spec/rpc.md.
//
// # Calls
//
// A Client calls over a session:
//
//	client := rpc.NewClient(sess)
//	var user User
//	_, err := client.Call(ctx, "users.get", 42, &user)
//
// Call sends the selector, the arguments (one value), the call's metadata
// (WithMetadata) and its deadline, waits for the reply and decodes its
// value into the last argument (a pointer, or nil to discard it). A
// Client is safe for concurrent use; every call has a channel of its own,
// so a slow call never holds up another.
//
// # Handlers and RespondMux
//
// A Handler's RespondRPC gets a Responder and a *Call. The handler reads
// the arguments with Call.Receive and answers exactly once: Return with a
// value, Error with an error, or Continue to keep the call open. A handler
// that returns without answering answers Return(nil); when it returns, the
// call ends and its channel is closed. A panic in a handler is recovered:
// the client gets a CodeInternal error and the server goes on.
//
// Call.Peer tells who calls: the address of the session's connection and,
// over tls, wss and quic (sessions that are a mux.TLSSession), the TLS
// handshake; PeerInfo.Identity is the verified client certificate's first
// URI SAN (a SPIFFE ID) or common name.
//
// Interceptors wrap calls on both sides (connect-go's shape): Intercept
// wraps a server's Handler, WithInterceptors a Client's calls, and
// ServerInterceptorFunc and ClientInterceptorFunc adapt functions. They
// see the selector, the metadata and the caller's identity, and refuse a
// call with the code they choose.
//
// A RespondMux is a Handler that routes by selector. A pattern that ends
// in "/", "." or ":" is a prefix pattern and matches every selector that
// starts with it; any other pattern matches only itself. Exact patterns
// win over prefix patterns, and among prefix patterns the longest wins.
// Under a prefix pattern the handler sees the rest of the selector in
// Call.Selector (Call.FullSelector keeps what the client sent), so muxes
// nest:
//
//	chat := rpc.NewRespondMux()
//	chat.HandleFunc("send", send)        // reached as "chat:send"
//	root := rpc.NewRespondMux()
//	root.Handle("chat:", chat)
//
// A selector nothing matches gets a CodeNotFound error. Registering a
// pattern twice panics; Remove unregisters one.
//
// A Server serves a Handler on one session (ServeSession) or on every
// session a listener yields (Serve, with a transport.Listener for
// example). Shutdown stops taking calls and waits for those in flight;
// Serve then returns ErrServerClosed.
//
// # Streaming and raw streams
//
// After Continue, the call stays open in both directions. The handler
// sends values with Responder.Send and reads the client's with
// Call.Receive; the client reads with Response.Receive and sends with
// Response.Send. Receive returns io.EOF at the end of the peer's stream:
// the client ends its stream with Response.CloseSend, the server ends its
// own by returning from the handler. A handler ends a continued call with
// an error by calling Responder.Error: the client's Receive returns it
// after the values sent before. Server streams, client streams and
// bidirectional streams are all this one mechanism.
//
// Instead of values, a continued call can carry raw bytes: the handler
// takes the channel with Responder.Conn and the client with Response.Conn.
// Each is a net.Conn whose CloseWrite ends that side's bytes, which suits
// proxies, file transfers and protocols of their own. The client must
// Close a continued Response when done with it.
//
// # One-way messages
//
// Client.Send sends a value to a selector without waiting for anything:
// the server runs the handler with it as the arguments and drops its
// answer. The messages a client sends to one selector travel on one
// channel and are handled in order, one at a time; a handler that falls
// behind makes Send block through flow control. Delivery is at most
// once, and Send reports only that the channel ended (ErrSendFailed).
//
// # Cancellation and deadlines
//
// The ctx of Call bounds the whole call, a continued one included. Its
// deadline travels with the call as a relative timeout, so the handler's
// context (Call.Context) has a deadline too, whatever the two clocks say.
// When the ctx ends, Call returns at once with an error that matches
// context.Canceled or context.DeadlineExceeded, and the client tells the
// server and closes the channel. The handler's context ends when the
// client cancels or closes the call, the deadline passes, the session
// ends, or the handler returns; contexts derived from it end with it.
// Handlers that block should watch it.
//
// # Errors and codes
//
// Every error a server reports reaches the client as an *Error: a Code,
// a message, and optional Details encoded by the application. Codes are
// numbered as in gRPC. Handlers return Errorf or NewError values to choose
// the code; an error wrapping context.Canceled or
// context.DeadlineExceeded travels as CodeCanceled or
// CodeDeadlineExceeded, and any other error as CodeUnknown with its
// message. On the client, test errors with errors.Is against the
// sentinels (ErrNotFound, ErrInvalidArgument, ...) or the context errors,
// or with errors.As for the *Error; CodeOf gives the code of any error,
// including local ones (CodeUnavailable when the session has ended).
// Frames that break the wire format are reported as errors matching
// ErrMalformed.
//
// Every frame's length is checked against a limit before anything is
// allocated for it: Server.MaxFrameSize and WithMaxFrameSize, by default
// DefaultMaxFrameSize. A larger frame fails the call with
// CodeResourceExhausted.
//
// # Codecs
//
// Values are encoded with the client's Codec, which the call names on the
// wire, and the server answers in kind. CBOR (the default), JSON,
// Msgpack and Protobuf are built in; RegisterCodec makes another
// available to servers. A call in a
// codec the server does not know fails with CodeUnimplemented, and
// arguments that do not decode into the handler's type fail with
// CodeInvalidArgument. A codec may implement optional interfaces:
// ArrayCodec for Call.ReceiveArgs, and BytesCodec, with which long byte
// slices cross without being copied through a frame buffer. A value may
// implement RawMarshaler to be sent in an encoding it made already (the
// pubsub hub encodes a publication once for all its subscribers).
//
// # Compression
//
// Values of at least a threshold of bytes may travel compressed with zstd
// between a client and a server that both take them (spec/rpc.md,
// section 13): a client with WithCompression says so in its calls, a
// Server (unless its CompressMin is negative) answers that it does too,
// and from then on both compress. Per call, WithCallCompression turns it
// on or off. A compressed value declares its length, which is held to the
// frame limit before anything is allocated, and decompressing stops past
// it.
//
// # The older framing
//
// Programs of the older qtalk lineage (qtalk-go) frame their calls with a
// length before each value and JSON headers (spec/rpc.md, section 12). A
// Server recognises such a call from its first byte and answers it in
// kind; a Client speaks it with WithLegacyFraming. That framing carries
// no deadline, metadata or one-way messages.
package rpc
