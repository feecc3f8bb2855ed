package service

import "time"

// SetClock sets the clock of the circuit breakers of s. It must be called
// before s serves calls.
func SetClock(s *Server, now func() time.Time) { s.now.Store(&now) }
