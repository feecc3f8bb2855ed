package modproxy

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The modules a proxy serves.
const (
	QtalkModule  = "github.com/qtalkkit/qtalk"
	QtalkVersion = "v0.0.0-local" // this checkout
	HelloModule  = "example.test/hello"
)

// helloMain is the program of HelloModule: it serves hello:greet over
// stdio with qtalk, answering "hello NAME from VERSION".
const helloMain = `package main

import (
	"context"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

func main() {
	rt := talk.NewRouter()
	rt.HandleFunc("hello:greet", func(r rpc.Responder, c *rpc.Call) {
		var name string
		if err := c.Receive(&name); err != nil {
			r.Error(err)
			return
		}
		r.Return("hello " + name + " from VERSION")
	})
	p, err := talk.Dial(context.Background(), "stdio:", talk.WithHandler(rt))
	if err != nil {
		panic(err)
	}
	<-p.Context().Done()
}
`

// A Proxy is a module proxy in a directory, for GOPROXY=file://DIR.
type Proxy struct {
	Dir  string
	qmod string // qtalk's go.mod
}

// New returns a proxy in a temporary directory of t that serves qtalk
// from this checkout at QtalkVersion.
func New(t testing.TB) *Proxy {
	t.Helper()
	root := moduleRoot(t)
	qmod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Dir: t.TempDir(), qmod: string(qmod)}
	p.Add(t, QtalkModule, QtalkVersion, p.qmod, qtalkFiles(t, root))
	return p
}

// AddHello adds HelloModule at version, whose program serves
// hello:greet; with broken, a version whose program does not compile.
func (p *Proxy) AddHello(t testing.TB, version string, broken bool) {
	t.Helper()
	// It requires what qtalk requires, so that its go.mod is complete.
	requires := strings.SplitN(p.qmod, "require", 2)[1]
	gomod := fmt.Sprintf("module %s\n\ngo 1.26.0\n\nrequire %s %s\n\nrequire%s", HelloModule, QtalkModule, QtalkVersion, requires)
	main := strings.Replace(helloMain, "VERSION", version, 1)
	if broken {
		main = "package main\n\nfunc main() { undefined() }\n"
	}
	p.Add(t, HelloModule, version, gomod, map[string][]byte{"main.go": []byte(main)})
}

// Add writes module@version: its go.mod, its files (by name in the
// module) and its line in the module's list.
func (p *Proxy) Add(t testing.TB, module, version, gomod string, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join(p.Dir, filepath.FromSlash(module), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := os.ReadFile(filepath.Join(dir, "list"))
	write("list", append(list, version+"\n"...))
	write(version+".info", fmt.Appendf(nil, `{"Version":%q,"Time":"2026-01-01T00:00:00Z"}`, version))
	write(version+".mod", []byte(gomod))
	f, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	files["go.mod"] = []byte(gomod)
	for name, data := range files {
		w, err := zw.Create(module + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Setenv sets the go command's environment, for the test and the
// processes it starts, to build from the proxy alone: the modules it
// does not hold come from the module cache, as a proxy too, into a
// module cache of the test's own.
func (p *Proxy) Setenv(t *testing.T) {
	t.Helper()
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		modcache = filepath.Join(os.Getenv("HOME"), "go", "pkg", "mod")
		if gp := os.Getenv("GOPATH"); gp != "" {
			modcache = filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
		}
	}
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(p.Dir)+",file://"+filepath.ToSlash(filepath.Join(modcache, "cache", "download")))
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-modcacherw")
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOTOOLCHAIN", "local")
}

// moduleRoot returns the directory of this checkout's go.mod.
func moduleRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above", file)
		}
		dir = parent
	}
}

// qtalkFiles returns the Go files of this checkout's module (and the
// files they embed), by name in the module: the nested modules, tests
// and web sources left out.
func qtalkFiles(t testing.TB, root string) map[string][]byte {
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil || strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "js" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, "_test.go") || !strings.HasSuffix(rel, ".go") && !strings.Contains(rel, "static") {
			return nil
		}
		data, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
