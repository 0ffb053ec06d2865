package harness

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

const (
	// modulePath is this module's path.
	modulePath = "github.com/sniproof/sniproof"
	// commandPath is the sniproof command's package: the main package of
	// the binary the backend's image holds.
	commandPath = modulePath + "/cmd/sniproof"
)

// binarySource is where the static sniproof binary of the backend's
// FROM-scratch image comes from: exactly one field is set.
type binarySource struct {
	// exe is the running executable, a statically linked sniproof: it goes
	// into the image as is.
	exe string
	// root is a checkout, in which ./cmd/sniproof is compiled.
	root string
	// module is COMMAND@VERSION, the running sniproof's own version, which
	// go install compiles from the module cache.
	module string
}

// String says where the binary comes from, for progress lines.
func (s binarySource) String() string {
	switch {
	case s.exe != "":
		return "the running binary " + s.exe
	case s.root != "":
		return "go build ./cmd/sniproof in " + s.root
	default:
		return "go install " + s.module
	}
}

// findBinarySource chooses, with chooseBinarySource, the source of the
// static binary for the running program and working directory.
func findBinarySource() (binarySource, error) {
	exe, _ := os.Executable()
	info, _ := debug.ReadBuildInfo()
	root, _ := ModuleRoot()
	return chooseBinarySource(exe, info, root)
}

// chooseBinarySource chooses where the static binary comes from, given
// the running executable exe, its build information info (nil when
// unknown) and the checkout around the working directory (root, "" for
// none). A statically linked sniproof command is used as is, whatever the
// working directory: it is the very program that runs. Otherwise a static
// copy is compiled: in the checkout when there is one (the suites' test
// binaries, a bin/sniproof of go build with cgo), else, for a sniproof
// command of a released version (go install ...@VERSION with cgo), that
// version from the module cache. When none applies, the error is one
// sentence saying how to get a static binary.
func chooseBinarySource(exe string, info *debug.BuildInfo, root string) (binarySource, error) {
	command := info != nil && info.Path == commandPath && info.Main.Path == modulePath
	why := []string{"the running program is not the sniproof command"}
	if command {
		static, err := staticELF(exe)
		if static {
			return binarySource{exe: exe}, nil
		}
		why[0] = fmt.Sprintf("the running sniproof (%s) is dynamically linked", exe)
		if err != nil {
			why[0] = fmt.Sprintf("the running sniproof cannot be read (%v)", err)
		}
	}
	if root != "" {
		return binarySource{root: root}, nil
	}
	why = append(why, "the working directory is in no sniproof checkout to compile one in")
	if command {
		if installable(info.Main.Version) {
			return binarySource{module: commandPath + "@" + info.Main.Version}, nil
		}
		why = append(why, fmt.Sprintf("its version %q is no release that go install can fetch", info.Main.Version))
	}
	last := len(why) - 1
	return binarySource{}, fmt.Errorf("the backend's FROM-scratch image needs a static sniproof binary, and none is at hand: %s and %s; "+
		"install a static sniproof with %s (or run it from a checkout, or name an image in %s)", strings.Join(why[:last], ", "), why[last], staticInstall, BinaryImageEnv)
}

// staticInstall is the command that installs a static sniproof.
const staticInstall = "CGO_ENABLED=0 go install " + commandPath + "@latest"

// installable reports whether version, the main module's version in a
// binary's build information, is one that go install can fetch: not
// "(devel)" (a build in a checkout), and without build metadata such as
// "+dirty".
func installable(version string) bool {
	if !strings.HasPrefix(version, "v") {
		return false
	}
	_, meta, found := strings.Cut(version, "+")
	return !found || meta == "incompatible"
}

// staticELF reports whether the ELF executable in file is statically
// linked: it names no program interpreter (PT_INTERP) and needs no shared
// library (DT_NEEDED). The error says why file is no ELF executable.
func staticELF(file string) (bool, error) {
	f, err := elf.Open(file)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return false, fmt.Errorf("%s: an ELF %s, not an executable", file, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return false, fmt.Errorf("%s: %w", file, err)
	}
	return len(libs) == 0, nil
}

// binary returns the static binary: the executable's bytes, or those of
// a copy compiled with CGO_ENABLED=0 for Linux.
func (s binarySource) binary(ctx context.Context) ([]byte, error) {
	if s.exe != "" {
		return os.ReadFile(s.exe)
	}
	dir, err := os.MkdirTemp("", "sniproof-bin-")
	if err != nil {
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	var cmd *exec.Cmd
	out := filepath.Join(dir, "sniproof")
	if s.root != "" {
		cmd = exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/sniproof")
		cmd.Dir = s.root
	} else {
		// Outside any module, so that no go.mod or go.work around the
		// working directory takes part; the module's own go.mod decides
		// the versions of its requirements.
		cmd = exec.CommandContext(ctx, "go", "install", "-trimpath", "-ldflags=-s -w", s.module)
		cmd.Dir = dir
		env = append(env, "GOBIN="+dir, "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
	}
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return nil, fmt.Errorf("%s: no Go toolchain on the PATH to compile a static sniproof binary with: install Go, or a static sniproof with %s: %w", s, staticInstall, err)
		}
		advice := ""
		if s.module != "" {
			advice = " (a static sniproof installs with CGO_ENABLED=0 go install " + s.module + ")"
		}
		return nil, fmt.Errorf("%s with CGO_ENABLED=0%s: %w\n%s", s, advice, err, lastLines(string(bytes.TrimSpace(msg)), 15))
	}
	return os.ReadFile(out)
}

// buildBinary returns a static Linux sniproof binary, from where
// chooseBinarySource says.
func buildBinary(ctx context.Context) ([]byte, error) {
	s, err := findBinarySource()
	if err != nil {
		return nil, err
	}
	return s.binary(ctx)
}

// ModuleRoot is the folder holding this module's go.mod, found from the
// working directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(data, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find module root: no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}
