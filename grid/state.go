package grid

import (
	"fmt"
	"time"
)

// A Status is where a link stands.
type Status int

const (
	// Connecting: the link has not been up yet (the dialing side is
	// dialing, the other waits to be dialed).
	Connecting Status = iota
	// Connected: the session is up and answers pings.
	Connected
	// Disconnected: the session was lost or a dial failed (State.Err
	// says why); the dialing side redials after a backoff.
	Disconnected
)

func (s Status) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// The State of a link.
type State struct {
	Status Status
	Err    error     // why the link is Disconnected; nil otherwise
	Since  time.Time // when the link entered Status
}
