package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"github.com/sniproof/sniproof/docker"
)

// builderVersion changes whenever the way images are built changes, so that
// every content-addressed tag changes with it. (Creating the empty man page
// folder changed no image whose packages built without it, so it kept the
// version.)
const builderVersion = "mmdebstrap-essential-1"

// Recipe is a Debian-based image: one Debian release and a package list.
type Recipe struct {
	Image    string // image name, e.g. "nginx"
	Release  string // Debian release, e.g. "bookworm"
	Packages []string
	file     string
}

var packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// LoadRecipe reads docker/IMAGE/RELEASE.packages. Errors name the file and line.
func LoadRecipe(image, release string) (Recipe, error) {
	file := image + "/" + release + ".packages"
	content, err := docker.Recipes.ReadFile(file)
	if err != nil {
		return Recipe{}, fmt.Errorf("load recipe docker/%s: no such recipe", file)
	}
	return parseRecipe(image, release, "docker/"+file, content)
}

func parseRecipe(image, release, file string, content []byte) (Recipe, error) {
	r := Recipe{Image: image, Release: release, file: file}
	sc := bufio.NewScanner(bytes.NewReader(content))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if !packageName.MatchString(text) {
			return Recipe{}, fmt.Errorf("%s:%d: want one Debian package name per line, got %q", file, line, text)
		}
		r.Packages = append(r.Packages, text)
	}
	if len(r.Packages) == 0 {
		return Recipe{}, fmt.Errorf("%s: no package listed", file)
	}
	return r, nil
}

// Tag is the content-addressed tag of the recipe: it changes when the
// package list or the way images are built changes, and only then.
func (r Recipe) Tag() string {
	h := sha256.New()
	// SNIPROOF_IMAGE_SALT changes every tag, forcing rebuilds (the
	// reliability suite interrupts a build this way).
	fmt.Fprintf(h, "%s\n%s\n%s\n%s", builderVersion, r.Release, r.Image, os.Getenv("SNIPROOF_IMAGE_SALT"))
	for _, p := range r.Packages {
		fmt.Fprintln(h, p)
	}
	return fmt.Sprintf("sniproof/%s:%s-%s", r.Image, r.Release, hex.EncodeToString(h.Sum(nil))[:12])
}

// EnvVar names the environment variable that substitutes the image,
// e.g. SNIPROOF_IMAGE_NGINX_BOOKWORM.
func (r Recipe) EnvVar() string {
	return "SNIPROOF_IMAGE_" + envName(r.Image) + "_" + envName(r.Release)
}

func envName(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(s))
}

// Images resolves and builds the images a run needs. It is safe for
// concurrent use; each image is built at most once per Images.
type Images struct {
	Docker   *client.Client
	Progress io.Writer // one line per image built or reused; nil for silence

	mu    sync.Mutex
	built map[string]*imageOnce
}

type imageOnce struct {
	once sync.Once
	ref  string
	err  error
}

func (im *Images) once(key string, build func() (string, error)) (string, error) {
	im.mu.Lock()
	if im.built == nil {
		im.built = map[string]*imageOnce{}
	}
	o, ok := im.built[key]
	if !ok {
		o = &imageOnce{}
		im.built[key] = o
	}
	im.mu.Unlock()
	o.once.Do(func() { o.ref, o.err = build() })
	return o.ref, o.err
}

func (im *Images) progress(format string, args ...any) {
	if im.Progress != nil {
		fmt.Fprintf(im.Progress, "sniproof: "+format+"\n", args...)
	}
}

// Debian returns a reference to the recipe's image: the image named by its
// environment variable when set, else its content-addressed tag, built with
// mmdebstrap and docker import when the engine does not have it yet.
func (im *Images) Debian(ctx context.Context, r Recipe) (string, error) {
	if ref := os.Getenv(r.EnvVar()); ref != "" {
		im.progress("image %s/%s: using %s from %s", r.Image, r.Release, ref, r.EnvVar())
		return im.substitute(ctx, ref, r.EnvVar())
	}
	return im.once(r.Tag(), func() (string, error) {
		tag := r.Tag()
		if im.has(ctx, tag) {
			im.progress("image %s: present", tag)
			return tag, nil
		}
		im.progress("image %s: building from %s (%s) ...", tag, r.file, strings.Join(r.Packages, " "))
		if err := im.buildDebian(ctx, r, tag); err != nil {
			return "", &InfraError{Op: "build image " + tag, Err: err}
		}
		im.progress("image %s: built", tag)
		return tag, nil
	})
}

// pullTimeout bounds the pull of a substitute image that is not present.
const pullTimeout = 2 * time.Minute

// substitute makes sure a user-named image is present: it pulls it, within
// pullTimeout, when the engine does not have it yet.
func (im *Images) substitute(ctx context.Context, ref, env string) (string, error) {
	return im.once("substitute "+ref, func() (string, error) {
		if im.has(ctx, ref) {
			return ref, nil
		}
		im.progress("image %s (from %s): not present, pulling", ref, env)
		pctx, cancel := context.WithTimeout(ctx, pullTimeout)
		defer cancel()
		res, err := im.Docker.ImagePull(pctx, ref, client.ImagePullOptions{})
		if err == nil {
			_, err = io.Copy(io.Discard, res)
			res.Close()
		}
		if err != nil || !im.has(ctx, ref) {
			return "", &InfraError{Op: "image " + ref + " from " + env,
				Err: fmt.Errorf("not present on the Docker engine and not pulled (%v); build or load it first", err)}
		}
		return ref, nil
	})
}

func (im *Images) has(ctx context.Context, ref string) bool {
	_, err := im.Docker.ImageInspect(ctx, ref)
	return err == nil
}

func (im *Images) buildDebian(ctx context.Context, r Recipe, tag string) error {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return fmt.Errorf("mmdebstrap is not installed (apt-get install mmdebstrap): %w", err)
	}
	mirror, err := DebianMirror()
	if err != nil {
		return err
	}
	args := []string{
		"--variant=essential",
		"--include=" + strings.Join(r.Packages, ","),
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		// Man pages are left out, but some post-installation scripts
		// (Java's update-alternatives) need the folder to exist.
		`--essential-hook=mkdir -p "$1/usr/share/man/man1"`,
		r.Release, "-", mirror,
	}
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	// On cancellation let mmdebstrap remove its temporary root (SIGTERM),
	// and kill it only if it does not stop.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("mmdebstrap: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mmdebstrap: %w", err)
	}
	// The root filesystem is imported under a partial tag and given its
	// content-addressed tag only once mmdebstrap succeeded: an interrupted
	// build must never leave an image that a later run takes for finished.
	partial := tag + "-partial-" + randomID()
	res, importErr := im.Docker.ImageImport(ctx, client.ImageImportSource{Source: out, SourceName: "-"}, partial,
		client.ImageImportOptions{Message: "sniproof " + r.file, Changes: []string{`CMD ["/bin/sh"]`}})
	if importErr == nil {
		_, importErr = io.Copy(io.Discard, res)
		res.Close()
	}
	// Drain what the import left unread so mmdebstrap can finish.
	_, _ = io.Copy(io.Discard, out)
	waitErr := cmd.Wait()
	cleanup := context.WithoutCancel(ctx)
	if waitErr != nil || importErr != nil {
		_, _ = im.Docker.ImageRemove(cleanup, partial, client.ImageRemoveOptions{Force: true})
	}
	if waitErr != nil {
		return fmt.Errorf("mmdebstrap %s: %w\n%s", r.Release, waitErr, lastLines(stderr.String(), 15))
	}
	if importErr == nil {
		if _, err := im.Docker.ImageTag(cleanup, client.ImageTagOptions{Source: partial, Target: tag}); err != nil {
			importErr = fmt.Errorf("tag %s: %w", tag, err)
		}
		_, _ = im.Docker.ImageRemove(cleanup, partial, client.ImageRemoveOptions{})
	}
	if importErr != nil {
		return fmt.Errorf("docker import: %w", importErr)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Binary returns a FROM-scratch image holding only the static sniproof
// binary at /sniproof, built from this module's source. Its tag is the
// binary's hash. SNIPROOF_IMAGE_SNIPROOF substitutes it.
func (im *Images) Binary(ctx context.Context) (string, error) {
	if ref := os.Getenv("SNIPROOF_IMAGE_SNIPROOF"); ref != "" {
		im.progress("image sniproof: using %s from SNIPROOF_IMAGE_SNIPROOF", ref)
		return im.substitute(ctx, ref, "SNIPROOF_IMAGE_SNIPROOF")
	}
	return im.once("binary", func() (string, error) {
		bin, err := buildBinary(ctx)
		if err != nil {
			return "", &InfraError{Op: "build sniproof binary", Err: err}
		}
		sum := sha256.Sum256(bin)
		tag := "sniproof/sniproof:" + hex.EncodeToString(sum[:])[:12]
		if im.has(ctx, tag) {
			im.progress("image %s: present", tag)
			return tag, nil
		}
		archive, err := singleFileTar("sniproof", bin, 0o755)
		if err != nil {
			return "", &InfraError{Op: "build image " + tag, Err: err}
		}
		res, err := im.Docker.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(archive), SourceName: "-"}, tag,
			client.ImageImportOptions{Message: "sniproof binary", Changes: []string{`ENTRYPOINT ["/sniproof"]`}})
		if err != nil {
			return "", &InfraError{Op: "import image " + tag, Err: err}
		}
		defer res.Close()
		if _, err := io.Copy(io.Discard, res); err != nil {
			return "", &InfraError{Op: "import image " + tag, Err: err}
		}
		im.progress("image %s: built", tag)
		return tag, nil
	})
}

// buildBinary compiles ./cmd/sniproof as a static Linux binary.
func buildBinary(ctx context.Context) ([]byte, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sniproof-bin-")
	if err != nil {
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "sniproof")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/sniproof")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/sniproof: %w\n%s", err, msg)
	}
	return os.ReadFile(out)
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
			bytes.Contains(data, []byte("module github.com/sniproof/sniproof\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find module root: no go.mod of github.com/sniproof/sniproof above the working directory")
		}
		dir = parent
	}
}
