package harness

import (
	"archive/zip"
	"context"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// fakeCommand is a main package at this module's path and the sniproof
// command's: its binaries carry the build information of the command.
var fakeCommand = map[string]string{
	"go.mod":               "module " + modulePath + "\n\ngo 1.22\n",
	"cmd/sniproof/main.go": "package main\n\nfunc main() { println(\"fake sniproof\") }\n",
	// With cgo, the binary links libc dynamically.
	"cmd/sniproof/cgo.go": "//go:build cgo\n\npackage main\n\nimport \"C\"\n",
}

// writeTree writes files under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goCommand runs go with args in dir (go install puts binaries there),
// with cgo on or off, outside any workspace; it skips the test without a
// Go toolchain.
func goCommand(t *testing.T, dir string, cgo bool, args ...string) ([]byte, error) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("no Go toolchain: %v", err)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cgoEnabled := "CGO_ENABLED=0"
	if cgo {
		cgoEnabled = "CGO_ENABLED=1"
	}
	cmd.Env = append(os.Environ(), cgoEnabled, "GOBIN="+dir, "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod -modcacherw -buildvcs=false")
	return cmd.CombinedOutput()
}

// buildFake builds the fake command in its module dir into out.
func buildFake(t *testing.T, dir, out string, cgo bool) error {
	t.Helper()
	msg, err := goCommand(t, dir, cgo, "build", "-o", out, "./cmd/sniproof")
	if err != nil {
		t.Logf("go build (cgo %v): %v\n%s", cgo, err, msg)
	}
	return err
}

// fakeBinaries builds the fake command statically and, when cgo works
// here, dynamically; dynamic is "" when it does not.
func fakeBinaries(t *testing.T) (module, static, dynamic string) {
	t.Helper()
	module, bin := t.TempDir(), t.TempDir()
	writeTree(t, module, fakeCommand)
	static = filepath.Join(bin, "static")
	if err := buildFake(t, module, static, false); err != nil {
		t.Fatal(err)
	}
	dynamic = filepath.Join(bin, "dynamic")
	if buildFake(t, module, dynamic, true) != nil {
		dynamic = ""
	}
	return module, static, dynamic
}

func readInfo(t *testing.T, file string) *debug.BuildInfo {
	t.Helper()
	info, err := buildinfo.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestStaticELF pins the detection of a static binary on real files: a
// CGO_ENABLED=0 build is static, a cgo build (PT_INTERP, DT_NEEDED libc)
// is not, and a file that is no ELF executable is an error.
func TestStaticELF(t *testing.T) {
	_, static, dynamic := fakeBinaries(t)
	if ok, err := staticELF(static); !ok || err != nil {
		t.Errorf("staticELF(CGO_ENABLED=0 build) = %v, %v; want true", ok, err)
	}
	if dynamic == "" {
		t.Log("cgo does not build here: no dynamic binary to test")
	} else if ok, err := staticELF(dynamic); ok || err != nil {
		t.Errorf("staticELF(cgo build) = %v, %v; want false", ok, err)
	}
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if ok, err := staticELF(script); ok || err == nil {
		t.Errorf("staticELF(shell script) = %v, %v; want an error", ok, err)
	}
}

// TestChooseBinarySource pins where the backend's static binary comes
// from, on real binaries: a static sniproof is used as is, even in a
// checkout; a dynamic one is compiled again in the checkout, else from
// the module cache at its version; without either, one sentence says how
// to install a static sniproof. A program other than the command (this
// test) needs the checkout.
func TestChooseBinarySource(t *testing.T) {
	_, static, dynamic := fakeBinaries(t)
	const checkout = "/src/sniproof"
	staticInfo := readInfo(t, static)
	if staticInfo.Path != commandPath || staticInfo.Main.Version != "(devel)" {
		t.Fatalf("the fake command's build information: path %q, version %q", staticInfo.Path, staticInfo.Main.Version)
	}
	for _, root := range []string{"", checkout} {
		if s, err := chooseBinarySource(static, staticInfo, root); err != nil || s != (binarySource{exe: static}) {
			t.Errorf("static, checkout %q: %+v, %v; want the running binary", root, s, err)
		}
	}
	self, _ := debug.ReadBuildInfo()
	if s, err := chooseBinarySource(os.Args[0], self, checkout); err != nil || s != (binarySource{root: checkout}) {
		t.Errorf("a test binary in a checkout: %+v, %v; want the checkout", s, err)
	}
	if _, err := chooseBinarySource(os.Args[0], self, ""); err == nil || !strings.Contains(err.Error(), "not the sniproof command") {
		t.Errorf("a test binary outside a checkout: %v; want an error saying it is not the command", err)
	}
	if dynamic == "" {
		t.Skip("cgo does not build here: no dynamic binary to test")
	}
	info := readInfo(t, dynamic)
	if s, err := chooseBinarySource(dynamic, info, checkout); err != nil || s != (binarySource{root: checkout}) {
		t.Errorf("dynamic in a checkout: %+v, %v; want the checkout", s, err)
	}
	_, err := chooseBinarySource(dynamic, info, "")
	if err == nil || !strings.Contains(err.Error(), "is dynamically linked") ||
		!strings.Contains(err.Error(), "CGO_ENABLED=0 go install "+commandPath+"@latest") {
		t.Errorf("dynamic (devel) outside a checkout: %v; want one sentence saying how to install a static sniproof", err)
	}
	for version, want := range map[string]string{
		"v1.2.3":                                   commandPath + "@v1.2.3",
		"v0.0.0-20260101000000-0123456789ab":       commandPath + "@v0.0.0-20260101000000-0123456789ab",
		"v0.0.0-20260101000000-0123456789ab+dirty": "",
		"(devel)": "",
	} {
		released := *info
		released.Main.Version = version
		s, err := chooseBinarySource(dynamic, &released, "")
		if s.module != want || (want == "") != (err != nil) {
			t.Errorf("dynamic %s outside a checkout: %+v, %v; want module %q", version, s, err, want)
		}
	}
}

// TestBinaryFromSource compiles static copies for real: in a checkout,
// and with go install of a released version from the module cache (a
// module proxy in a folder serves the fake command at v0.0.1), as for an
// operator's go install ...@v0.0.1 built with cgo.
func TestBinaryFromSource(t *testing.T) {
	module, _, dynamic := fakeBinaries(t)
	ctx := context.Background()
	check := func(what string, bin []byte) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "sniproof")
		if err := os.WriteFile(file, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if ok, err := staticELF(file); !ok || err != nil {
			t.Errorf("%s: staticELF = %v, %v; want a static binary", what, ok, err)
		}
	}
	bin, err := binarySource{root: module}.binary(ctx)
	if err != nil {
		t.Fatalf("from the checkout: %v", err)
	}
	check("from the checkout", bin)

	proxy := t.TempDir()
	writeProxy(t, proxy, "v0.0.1", fakeCommand)
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy))
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-modcacherw")
	t.Setenv("GOTOOLCHAIN", "local")
	s := binarySource{module: commandPath + "@v0.0.1"}
	if dynamic != "" {
		installed := t.TempDir()
		if msg, err := goCommand(t, installed, true, "install", commandPath+"@v0.0.1"); err != nil {
			t.Fatalf("go install %s@v0.0.1: %v\n%s", commandPath, err, msg)
		}
		exe := filepath.Join(installed, "sniproof")
		got, err := chooseBinarySource(exe, readInfo(t, exe), "")
		if err != nil || got != s {
			t.Fatalf("a cgo go install @v0.0.1: %+v, %v; want %+v", got, err, s)
		}
	}
	bin, err = s.binary(ctx)
	if err != nil {
		t.Fatalf("from the module cache: %v", err)
	}
	check("from the module cache", bin)

	_, err = binarySource{module: commandPath + "@v9.9.9"}.binary(ctx)
	if err == nil || !strings.Contains(err.Error(), "go install "+commandPath+"@v9.9.9 with CGO_ENABLED=0 (a static sniproof installs with") {
		t.Errorf("an unknown version: %v; want an error naming the command and the way to install a static one", err)
	}
}

// writeProxy lays out a Go module proxy in dir (GOPROXY=file://dir)
// serving the module files at version.
func writeProxy(t *testing.T, dir, version string, files map[string]string) {
	t.Helper()
	at := filepath.Join(dir, filepath.FromSlash(modulePath), "@v")
	writeTree(t, at, map[string]string{
		"list":            version + "\n",
		version + ".info": `{"Version":"` + version + `","Time":"2026-01-01T00:00:00Z"}`,
		version + ".mod":  files["go.mod"],
	})
	f, err := os.Create(filepath.Join(at, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	for name, content := range files {
		w, err := z.Create(modulePath + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
