package talk

import "errors"

// ErrNotChannel is matched by the error of OpenChannel when the handler
// of the label answered the call instead of continuing it as a raw
// channel.
var ErrNotChannel = errors.New("talk: the label is not a channel")
