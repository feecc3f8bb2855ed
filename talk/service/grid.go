package service

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/grid"
)

// startGrid joins the grid of the config, if it has one: it listens on
// the grid's self address and keeps the links to the other hosts until
// Close. It listens without holding mu.
func (s *Server) startGrid(ctx context.Context) error {
	g := s.state.Load().cfg.Grid
	if g == nil {
		return nil
	}
	m, err := grid.New(grid.Config{
		Self:         g.Self,
		Hosts:        g.Hosts,
		PingInterval: g.PingInterval,
		PingTimeout:  g.PingTimeout,
		Logger:       s.logger.With("type", "grid"),
	})
	if err != nil {
		return fmt.Errorf("service: grid: %w", err)
	}
	if err := m.Start(ctx); err != nil {
		return fmt.Errorf("service: grid: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grid != nil || s.isClosed() {
		m.Close()
		if s.grid != nil {
			return fmt.Errorf("service: server already started")
		}
		return ErrServerClosed
	}
	s.grid = m
	s.logger.Info("joined grid", "type", "grid", "id", m.Self(), "hosts", len(g.Hosts))
	return nil
}

// closeGrid leaves the grid, if the server joined one.
func (s *Server) closeGrid() {
	s.mu.Lock()
	m := s.grid
	s.grid = nil
	s.mu.Unlock()
	if m != nil {
		m.Close()
	}
}

// Grid returns the grid the server joined at Start (the config's [grid]
// table), to register handlers on and reach the other hosts, or nil.
func (s *Server) Grid() *grid.Manager {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grid
}

// inGrid reports whether the server joined a grid.
func (s *Server) inGrid() bool { return s.Grid() != nil }

// gridLinks describes the links of the grid, for LabelGrid.
func (s *Server) gridLinks() []grid.LinkInfo {
	m := s.Grid()
	if m == nil {
		return []grid.LinkInfo{}
	}
	return m.Links()
}
