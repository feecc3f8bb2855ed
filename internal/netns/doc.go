// Package netns holds tests that run the real qtalk binary as separate
// hosts: one Linux network namespace each, joined by veth pairs on a
// bridge, each host with its own address. They need root and iproute2,
// and build only with the netns tag (scripts/test turns it on); without
// root they fail saying so.
package netns
