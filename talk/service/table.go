package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/config"
)

// tablePoll is how often a table service checks its file for changes.
const tablePoll = time.Second

// maxTableFile bounds the file of a table service.
const maxTableFile = 64 << 20

// EventTableReloaded is emitted by a table service once it serves the
// new content of its file.
const EventTableReloaded = "reloaded"

func init() { RegisterModule(config.TableModule, openTable) }

// A table serves the top-level keys of a TOML or JSON file.
type table struct {
	file string
	data atomic.Pointer[map[string]any] // replaced whole by the watcher
}

// openTable is the factory of table services (provider = "table"): get
// KEY returns the value of KEY (CodeNotFound if it has none), list the
// keys in order. The file is read again when its size or time of
// modification changes; while a changed file does not parse, the old
// content stays served.
func openTable(m *Module) error {
	file, _ := m.Options()["file"].(string)
	t := &table{file: file}
	st, err := t.load()
	if err != nil {
		return err
	}
	m.HandleFunc("get", t.get)
	m.HandleFunc("list", t.list)
	go t.watch(m, st)
	return nil
}

// load reads the file and serves its content; it returns the file's
// state it read.
func (t *table) load() (os.FileInfo, error) {
	st, err := os.Stat(t.file)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxTableFile {
		return nil, fmt.Errorf("table %s: %d bytes, more than %d", t.file, st.Size(), maxTableFile)
	}
	b, err := os.ReadFile(t.file)
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	if strings.EqualFold(filepath.Ext(t.file), ".json") {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err = d.Decode(&data); err == nil {
			data = jsonNumbers(data).(map[string]any)
		}
	} else {
		err = toml.Unmarshal(b, &data)
	}
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.file, err)
	}
	t.data.Store(&data)
	return st, nil
}

// jsonNumbers returns v with its json.Numbers made int64 where they are
// integers and float64 otherwise, so that integers reach every codec as
// integers, as TOML's do.
func jsonNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = jsonNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = jsonNumbers(e)
		}
	}
	return v
}

// watch reloads the file when it changes, until the module closes.
func (t *table) watch(m *Module, last os.FileInfo) {
	tick := time.NewTicker(tablePoll)
	defer tick.Stop()
	for {
		select {
		case <-m.Context().Done():
			return
		case <-tick.C:
		}
		st, err := os.Stat(t.file)
		if err != nil || st.Size() == last.Size() && st.ModTime().Equal(last.ModTime()) {
			continue
		}
		last = st // a file that does not parse is tried again at its next change
		if _, err := t.load(); err == nil {
			m.Emit(EventTableReloaded, nil)
		}
	}
}

// key reads the argument of get: a key, or an array holding one (as fn
// callers send).
func key(c *rpc.Call) (string, error) {
	var v any
	if err := c.Receive(&v); err != nil {
		return "", err
	}
	if a, ok := v.([]any); ok && len(a) == 1 {
		v = a[0]
	}
	k, ok := v.(string)
	if !ok {
		return "", &rpc.Error{Code: rpc.CodeInvalidArgument, Message: "get: want a key (a string)"}
	}
	return k, nil
}

func (t *table) get(r rpc.Responder, c *rpc.Call) {
	k, err := key(c)
	if err != nil {
		r.Error(err)
		return
	}
	v, ok := (*t.data.Load())[k]
	if !ok {
		r.Error(&rpc.Error{Code: rpc.CodeNotFound, Message: fmt.Sprintf("get: no key %q", k)})
		return
	}
	r.Return(v)
}

func (t *table) list(r rpc.Responder, c *rpc.Call) {
	data := *t.data.Load()
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r.Return(keys)
}
