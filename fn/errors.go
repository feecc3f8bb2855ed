package fn

import "errors"

var (
	// ErrUnsupported is matched by the errors of HandlerFrom, HandlerFor
	// and Stub for values, funcs, methods and fields they cannot serve or
	// call.
	ErrUnsupported = errors.New("fn: unsupported")

	// ErrStream is matched by the error of Call, Invoke and CallInto, and
	// of stub funcs, when the called func returned a channel: use Stream.
	ErrStream = errors.New("fn: the reply is a stream")

	// ErrNotStream is yielded by Stream when the called func did not
	// return a channel.
	ErrNotStream = errors.New("fn: the reply is not a stream")
)
