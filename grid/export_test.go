package grid

// SessionCount is the number of greeted sessions the manager holds.
func (m *Manager) SessionCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}
