package main

// The quic:// scheme, for serve's listeners and every command's dials.
import _ "github.com/qtalkkit/qtalk/transport/quic"
