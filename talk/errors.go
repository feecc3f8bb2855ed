package talk

import "errors"

// ErrNotChannel is matched by the error of OpenChannel when the handler
// of the label answered the call instead of continuing it as a raw
// channel.
var ErrNotChannel = errors.New("talk: the label is not a channel")

// ErrPingReply is matched by the error of Peer.Ping when the reply does
// not carry the payload back unchanged.
var ErrPingReply = errors.New("talk: ping reply differs from its payload")
