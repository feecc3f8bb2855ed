package demo

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/qtalkkit/qtalk/rpc"
)

// KV is a key-value store in memory, served as kv:get, kv:set, kv:delete
// and kv:list. Values are any value the codecs decode; maps decoded from
// CBOR are stored with string keys, so that a JSON client can read them.
type KV struct {
	log *slog.Logger

	mu sync.Mutex // guards m
	m  map[string]any
}

// NewKV returns an empty store that logs to log.
func NewKV(log *slog.Logger) *KV {
	return &KV{log: log, m: map[string]any{}}
}

// Get returns the value of key, or a not_found error.
func (s *KV) Get(key string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, rpc.Errorf(rpc.CodeNotFound, "no key %q", key)
	}
	return v, nil
}

// Set stores value under key, which must not be empty.
func (s *KV) Set(key string, value any) error {
	if key == "" {
		return rpc.Errorf(rpc.CodeInvalidArgument, "kv:set: empty key")
	}
	s.mu.Lock()
	s.m[key] = normalize(value)
	s.mu.Unlock()
	s.log.Debug("set", "key", key)
	return nil
}

// Delete removes key, or fails with not_found.
func (s *KV) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		return rpc.Errorf(rpc.CodeNotFound, "no key %q", key)
	}
	delete(s.m, key)
	s.log.Debug("delete", "key", key)
	return nil
}

// List returns the keys, sorted.
func (s *KV) List() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalize turns the map[any]any values CBOR decodes into map[string]any,
// which every codec can encode.
func normalize(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprint(k)
			}
			m[ks] = normalize(e)
		}
		return m
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
		return v
	}
	return v
}
