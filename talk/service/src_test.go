package service_test

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/service"
)

// The versions the file module proxy of the tests serves.
const (
	helloModule  = "example.test/hello"
	qtalkModule  = "github.com/qtalkkit/qtalk"
	qtalkVersion = "v0.0.0-local"
)

// helloMain is the program of example.test/hello: it serves
// hello:greet over stdio with qtalk.
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

// moduleRoot returns the directory of this checkout's go.mod.
func moduleRoot(t *testing.T) string {
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

// addModule writes module@version to the file module proxy at proxy:
// its go.mod, its files (by name in the module) and its listing.
func addModule(t *testing.T, proxy, module, version, gomod string, files map[string][]byte) {
	dir := filepath.Join(proxy, filepath.FromSlash(module), "@v")
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
	f.Close()
}

// qtalkFiles returns the Go files of this checkout's module (and the
// files they embed), by name in the module: the nested modules, tests
// and web sources left out.
func qtalkFiles(t *testing.T, root string) map[string][]byte {
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

// srcEnv sets up a file module proxy serving example.test/hello at
// v1.0.0 and v1.0.1 (which does not compile), with qtalk from this
// checkout, and the go command's environment to build from it alone:
// the other modules come from the module cache, as a proxy too.
func srcEnv(t *testing.T) {
	root := moduleRoot(t)
	proxy := t.TempDir()
	qmod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	addModule(t, proxy, qtalkModule, qtalkVersion, string(qmod), qtalkFiles(t, root))
	// The hello module requires what qtalk requires, so that its go.mod
	// is complete.
	requires := strings.SplitN(string(qmod), "require", 2)[1]
	gomod := fmt.Sprintf("module %s\n\ngo 1.26.0\n\nrequire %s %s\n\nrequire%s", helloModule, qtalkModule, qtalkVersion, requires)
	addModule(t, proxy, helloModule, "v1.0.0", gomod, map[string][]byte{"main.go": []byte(strings.Replace(helloMain, "VERSION", "v1.0.0", 1))})
	addModule(t, proxy, helloModule, "v1.0.1", gomod, map[string][]byte{"main.go": []byte("package main\n\nfunc main() { undefined() }\n")})

	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		modcache = filepath.Join(os.Getenv("HOME"), "go", "pkg", "mod")
		if gp := os.Getenv("GOPATH"); gp != "" {
			modcache = filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
		}
	}
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(modcache, "cache", "download")))
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-modcacherw")
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOTOOLCHAIN", "local")
}

// A service from source is built from its module at its version, with
// the go command and the configured module proxy, and served over stdio;
// a second server reuses the build. A build that fails is one line with
// the service's name.
func TestSrcService(t *testing.T) {
	srcEnv(t)
	cache := t.TempDir()
	text := fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
cache_dir = %q
[services]
hello = { src = "example.test/hello#v1.0.0" }
broken = { src = "example.test/hello@v1.0.1", service = "hello" }
`, cache)
	srv, jl := startProcessServer(t, text)
	p := dial(t, addrOf(srv))
	// The first call waits for the build: compiling qtalk and its
	// dependencies, with a cold build cache, on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var got string
	if _, err := p.Call(ctx, "hello:greet", "src", &got); err != nil || got != "hello src from v1.0.0" {
		t.Fatalf("hello:greet = %q, %v", got, err)
	}
	if n := len(jl.find("built", map[string]string{"id": "hello", "src": "example.test/hello@v1.0.0"})); n != 1 {
		t.Errorf("%d builds, want 1", n)
	}
	bin := filepath.Join(cache, "src", "example.test", "hello@v1.0.0", "hello")
	if _, err := os.Stat(bin); err != nil {
		t.Errorf("the program is not in the cache: %v", err)
	}

	_, err := p.Call(ctx, "broken:greet", "src", nil)
	checkCode(t, "a call to a service that does not build", err, rpc.CodeUnavailable)
	msg := rpc.CodeOf(err).String()
	var re *rpc.Error
	if errors.As(err, &re) {
		msg = re.Message
	}
	if !strings.Contains(msg, "service broken: go install example.test/hello@v1.0.1: ") || !strings.Contains(msg, "undefined") || strings.Contains(msg, "\n") {
		t.Errorf("build error %q, want one line naming the service and what failed", msg)
	}
	srv.Close()

	// A second server finds the program in the cache.
	srv2, jl2 := startProcessServer(t, text)
	p2 := dial(t, addrOf(srv2))
	if _, err := p2.Call(ctx, "hello:greet", "again", &got); err != nil || got != "hello again from v1.0.0" {
		t.Fatalf("hello:greet = %q, %v", got, err)
	}
	if n := len(jl2.find("building", map[string]string{"id": "hello"})); n != 0 {
		t.Errorf("built again: %d builds", n)
	}
	var src service.SourceInfo
	want := service.SourceInfo{Service: "hello", Module: helloModule, Version: "v1.0.0", Origin: service.OriginSrc}
	if _, err := p2.Call(ctx, service.LabelSource, "hello", &src); err != nil || src != want {
		t.Errorf("%s hello = %+v, %v; want %+v", service.LabelSource, src, err, want)
	}
	var infos []service.ServiceInfo
	if _, err := p2.Call(ctx, service.LabelServices, nil, &infos); err != nil || len(infos) != 2 || infos[1].Provider != "src:example.test/hello@v1.0.0" {
		t.Errorf("qtalk:services = %+v, %v", infos, err)
	}
}
