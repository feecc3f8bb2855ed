package mux

// Addr is a net.Addr for sessions whose connection has no address of its
// own (an in-memory pipe, the stdio of a process).
type Addr struct {
	Net  string // the network name, for example "pipe" or "stdio"
	Name string // the address within that network, possibly empty
}

func (a Addr) Network() string { return a.Net }
func (a Addr) String() string {
	if a.Name == "" {
		return a.Net
	}
	return a.Name
}
