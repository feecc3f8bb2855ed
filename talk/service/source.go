package service

import (
	"context"
	"runtime/debug"
	"strings"

	"github.com/qtalkkit/qtalk/rpc"
)

// LabelSource answers where a service comes from, as a SourceInfo: the
// argument is the service's name (a string).
const LabelSource = "qtalk:source"

// Origins of a SourceInfo: what its version was read from.
const (
	OriginBuild    = "build"    // the server's build info: a module compiled in
	OriginConfig   = "config"   // the config alone: no version known
	OriginUpstream = "upstream" // the upstream's answer to LabelSource
	OriginSrc      = "src"      // the config's src: a service built from source
)

// SourceInfo says where a service's code comes from, so that a client
// can find its source (to build stubs, say).
type SourceInfo struct {
	Service string `cbor:"service" json:"service"`
	Module  string `cbor:"module" json:"module"`                       // the module path (the import path of a local module's package)
	Version string `cbor:"version,omitempty" json:"version,omitempty"` // empty when unknown
	Origin  string `cbor:"origin" json:"origin"`
}

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

// moduleVersion returns the module of the build that holds the package
// at path and its version, or path and "" if the build has none.
func moduleVersion(path string) (module, version string) {
	bi, ok := readBuildInfo()
	if !ok {
		return path, ""
	}
	mods := append([]*debug.Module{&bi.Main}, bi.Deps...)
	best := (*debug.Module)(nil)
	for _, m := range mods {
		if (path == m.Path || strings.HasPrefix(path, m.Path+"/")) && (best == nil || len(m.Path) > len(best.Path)) {
			best = m
		}
	}
	if best == nil {
		return path, ""
	}
	v := best.Version
	if best.Replace != nil && best.Replace.Version != "" {
		v = best.Replace.Version
	}
	if v == "(devel)" {
		v = ""
	}
	return best.Path, v
}

// serveSource answers LabelSource.
func (s *Server) serveSource(r rpc.Responder, c *rpc.Call) {
	var name string
	if err := c.Receive(&name); err != nil {
		r.Error(rpc.Errorf(rpc.CodeInvalidArgument, "%s: want a service name: %v", LabelSource, err))
		return
	}
	svc := s.state.Load().services[name]
	if svc == nil {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "%s: no service %q", LabelSource, name))
		return
	}
	if path, version, ok := strings.Cut(svc.cfg.Src, "@"); ok {
		r.Return(SourceInfo{Service: name, Module: path, Version: version, Origin: OriginSrc})
		return
	}
	if svc.mod == nil {
		info, err := s.upstreamSource(c.Context(), svc)
		if err != nil {
			r.Error(err)
			return
		}
		r.Return(info)
		return
	}
	info := SourceInfo{Service: name, Module: svc.cfg.Module, Origin: OriginConfig}
	if module, version := moduleVersion(svc.cfg.Module); version != "" {
		info.Module, info.Version, info.Origin = module, version, OriginBuild
	}
	r.Return(info)
}

// upstreamSource asks the upstream of svc where its service comes from.
func (s *Server) upstreamSource(ctx context.Context, svc *service) (SourceInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, labelsTimeout)
	defer cancel()
	peer, err := svc.remote.prov.session(ctx)
	if err != nil {
		return SourceInfo{}, rpc.Errorf(rpc.CodeUnavailable, "%s: upstream of %q: %v", LabelSource, svc.cfg.Name, err)
	}
	var info SourceInfo
	if _, err := peer.Call(ctx, LabelSource, svc.cfg.Service, &info); err != nil {
		return SourceInfo{}, err
	}
	info.Service, info.Origin = svc.cfg.Name, OriginUpstream
	return info, nil
}
