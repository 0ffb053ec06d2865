package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mimage "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"

	"github.com/sniproof/sniproof/docker"
)

// builderVersion changes whenever the way images are built changes, so that
// every content-addressed tag changes with it. (Creating the empty man page
// folder changed no image whose packages built without it, so it kept the
// version.)
const builderVersion = "mmdebstrap-essential-base-1"

// Recipe is a Debian-based image: one Debian release and a package list.
type Recipe struct {
	Image    string   // image name, e.g. "nginx"
	Release  string   // Debian release, e.g. "bookworm"
	Packages []string // NAME, or NAME/SUITE for a package from another suite
	file     string
}

// A recipe line is a Debian package name, optionally followed by /SUITE:
// the package then comes from that suite of the release's mirror lines
// (apt's pkg/release), e.g. haproxy/experimental.
var packageLine = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(/[a-z][a-z0-9-]*)?$`)

// debianRelease is how mmdebstrap fetches a release that is not a stable
// one (a stable release is its own single suite).
type debianRelease struct {
	// Suites are the archive suites of the build's mirror lines; the first
	// is the base system's. A recipe takes a package from another with a
	// NAME/SUITE line.
	Suites []string
	// IgnoreValidUntil: the archive's Release files of a moving release
	// carry a Valid-Until date a week ahead, and a mirror that is not kept
	// fresh (a snapshot) serves them past it, which apt refuses as
	// "expired". The build then skips that date check; the signatures are
	// still checked.
	IgnoreValidUntil bool
}

// debianReleases are the releases beyond the stable ones: forky (testing),
// sid (unstable) and experimental, which is no full release but a suite on
// top of sid, marked NotAutomatic: nothing comes from it unless a recipe
// line names it.
var debianReleases = map[string]debianRelease{
	"forky":        {Suites: []string{"forky"}, IgnoreValidUntil: true},
	"sid":          {Suites: []string{"sid"}, IgnoreValidUntil: true},
	"experimental": {Suites: []string{"sid", "experimental"}, IgnoreValidUntil: true},
}

// noValidUntil is the apt option that skips the Valid-Until check.
const noValidUntil = `Acquire::Check-Valid-Until "false"`

// suites are the archive suites of the recipe's mirror lines, the base
// system's first.
func (r Recipe) suites() []string {
	if rel, ok := debianReleases[r.Release]; ok {
		return rel.Suites
	}
	return []string{r.Release}
}

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
		if !packageLine.MatchString(text) {
			return Recipe{}, fmt.Errorf("%s:%d: want one Debian package name per line, got %q", file, line, text)
		}
		if _, suite, ok := strings.Cut(text, "/"); ok && !slices.Contains(r.suites(), suite) {
			return Recipe{}, fmt.Errorf("%s:%d: %s: suite %q is not one of release %s's (%s)", file, line, text, suite, release, strings.Join(r.suites(), ", "))
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
	// A release beyond the stable ones is built with its own mirror lines
	// and apt options; the stable releases' tags are as they were before.
	if rel, ok := debianReleases[r.Release]; ok {
		fmt.Fprintf(h, "suites %s\nignore valid-until %t\n", strings.Join(rel.Suites, " "), rel.IgnoreValidUntil)
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

// LabelBuild marks every image built from a recipe with the id of the
// session that built it, so that a sweep of the session finds the partial
// tags its unfinished builds left. Unlike LabelSession it outlives the
// session: a finished image keeps it.
const LabelBuild = "org.sniproof.build"

// partialMark is in the tag of every image being built from a recipe: its
// root filesystem is imported as TAG-partial-ID and only then tagged TAG.
const partialMark = "-partial-"

const (
	// settleBound is how long a build whose import failed or was cancelled
	// waits for the Docker engine to finish the import all the same, so as
	// to remove the partial tag it makes.
	settleBound = 5 * time.Second
	settlePoll  = 250 * time.Millisecond
	// staleGrace is how much older than the run a partial tag's image must
	// be for the run to take it for another run's leftover: a live build
	// replaces its partial tag within moments of the import.
	staleGrace = 10 * time.Second
)

// Images resolves and builds the images a run needs. It is safe for
// concurrent use; each image is built at most once per Images.
//
// The caller must call Close, which removes the partial tags of its
// unfinished builds.
type Images struct {
	Docker   *client.Client
	Progress io.Writer // one line per image built or reused; nil for silence
	Session  string    // labels the images built from recipes (LabelBuild); empty for none

	mu       sync.Mutex
	built    map[string]*imageOnce
	partials map[string]bool // partial tags imported under and not yet seen removed
	bases    string          // the folder of the releases' essential roots, once made
}

// NewImages returns the Images of a run that starts now. It first removes
// the partial tags that the unfinished builds of earlier runs left (those of
// images created before the run, less staleGrace) and says so on progress.
func NewImages(ctx context.Context, cli *client.Client, session string, progress io.Writer) *Images {
	im := &Images{Docker: cli, Progress: progress, Session: session}
	n, err := SweepPartials(ctx, cli, time.Now().Add(-staleGrace), "")
	if n > 0 {
		im.progress("removed %d partial image tag(s) of unfinished builds", n)
	}
	if err != nil {
		im.progress("remove the partial image tags of unfinished builds: %v", err)
	}
	if n := sweepBases(); n > 0 {
		im.progress("removed %d folder(s) of essential roots that ended runs left in %s", n, BuildDir())
	}
	return im
}

// Close removes the folder of this Images's bases and every partial tag of
// its builds that still exists: one the engine made after its build stopped
// waiting for it. It is safe to call on a nil Images.
func (im *Images) Close(ctx context.Context) error {
	if im == nil || im.Docker == nil {
		return nil
	}
	im.mu.Lock()
	refs := slices.Sorted(maps.Keys(im.partials))
	bases := im.bases
	im.bases = ""
	im.mu.Unlock()
	var errs []error
	if bases != "" {
		if err := os.RemoveAll(bases); err != nil {
			errs = append(errs, fmt.Errorf("remove the essential roots: %w", err))
		}
	}
	for _, ref := range refs {
		if _, err := removeTag(ctx, im.Docker, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		im.forget(ref)
	}
	return errors.Join(errs...)
}

// SweepPartials removes the partial tags of sniproof images, those of
// builds that did not finish: every one whose image was created before
// before (any when before is zero) and, when session is not empty, carries
// LabelBuild=session. It returns how many it removed.
func SweepPartials(ctx context.Context, cli *client.Client, before time.Time, session string) (int, error) {
	filters := make(client.Filters).Add("reference", "sniproof/*")
	if session != "" {
		filters.Add("label", LabelBuild+"="+session)
	}
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: filters})
	if err != nil {
		return 0, &InfraError{Op: "list images", Err: err}
	}
	n := 0
	var errs []error
	for _, ref := range partialTags(list.Items, before, session) {
		removed, err := removeTag(ctx, cli, ref)
		if err != nil {
			errs = append(errs, err)
		}
		if removed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// partialTags picks the partial tags among the images' tags, sorted: those
// of images created before before (any when zero) and, when session is not
// empty, labelled LabelBuild=session.
func partialTags(images []mimage.Summary, before time.Time, session string) []string {
	var out []string
	for _, img := range images {
		if !before.IsZero() && !time.Unix(img.Created, 0).Before(before) {
			continue
		}
		if session != "" && img.Labels[LabelBuild] != session {
			continue
		}
		for _, ref := range img.RepoTags {
			if IsPartialTag(ref) {
				out = append(out, ref)
			}
		}
	}
	slices.Sort(out)
	return out
}

// IsPartialTag reports whether ref is the tag of an unfinished build: a
// repository under sniproof/ and a tag containing "-partial-".
func IsPartialTag(ref string) bool {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return false
	}
	return strings.HasPrefix(ref[:i], "sniproof/") && strings.Contains(ref[i+1:], partialMark)
}

// removeTag removes the tag ref, and its image when no other tag names it.
// A tag that does not exist is no error: it reports false.
func removeTag(ctx context.Context, cli *client.Client, ref string) (bool, error) {
	_, err := cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove image tag %s: %w", ref, err)
	}
	return true, nil
}

func (im *Images) record(partial string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.partials == nil {
		im.partials = map[string]bool{}
	}
	im.partials[partial] = true
}

func (im *Images) forget(partial string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	delete(im.partials, partial)
}

// removePartial removes a partial tag of a build, waiting up to settle for
// it to appear: the engine may still be finishing an import this process
// gave up on. A tag never seen stays recorded for Close.
func (im *Images) removePartial(ctx context.Context, partial string, settle time.Duration) {
	deadline := time.Now().Add(settle)
	for {
		removed, err := removeTag(ctx, im.Docker, partial)
		if removed {
			im.forget(partial)
			return
		}
		if err != nil || !time.Now().Before(deadline) {
			return
		}
		time.Sleep(settlePoll)
	}
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
		im.progress("image %s: building from %s (%s)%s ...", tag, r.file, strings.Join(r.Packages, " "), r.sourceNote())
		versions, err := im.buildDebian(ctx, r, tag)
		if err != nil {
			return "", &InfraError{Op: "build image " + tag, Err: err}
		}
		im.progress("image %s: built (%s)", tag, strings.Join(versions, ", "))
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

// sourceNote says, for the build's progress line, how a release beyond the
// stable ones is fetched; "" for a stable release.
func (r Recipe) sourceNote() string {
	rel, ok := debianReleases[r.Release]
	if !ok {
		return ""
	}
	note := " from " + strings.Join(rel.Suites, " + ")
	if rel.IgnoreValidUntil {
		note += ", Release files accepted past their Valid-Until date (signatures still checked)"
	}
	return note
}

// buildDebian builds the recipe's image under tag and returns the
// installed version of each of its packages, "NAME VERSION": mmdebstrap
// installs the packages on the release's essential root (base) and streams
// the result to docker import.
func (im *Images) buildDebian(ctx context.Context, r Recipe, tag string) ([]string, error) {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return nil, fmt.Errorf("mmdebstrap is not installed (apt-get install mmdebstrap): %w", err)
	}
	mirror, err := DebianMirror()
	if err != nil {
		return nil, err
	}
	base, err := im.base(ctx, r, mirror)
	if err != nil {
		return nil, err
	}
	cmd, stderr := mmdebstrap(ctx, r.mmdebstrapArgs(mirror, base))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("mmdebstrap: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mmdebstrap: %w", err)
	}
	// The root filesystem is imported under a partial tag and given its
	// content-addressed tag only once mmdebstrap succeeded: an interrupted
	// build must never leave an image that a later run takes for finished.
	wait := sync.OnceValue(cmd.Wait)
	partial := tag + partialMark + randomID()
	im.record(partial)
	changes := []string{`CMD ["/bin/sh"]`}
	if im.Session != "" {
		changes = append(changes, "LABEL "+LabelBuild+"="+strconv.Quote(im.Session))
	}
	res, importErr := im.Docker.ImageImport(ctx, client.ImageImportSource{Source: &buildOutput{r: out, wait: wait}, SourceName: "-"}, partial,
		client.ImageImportOptions{Message: "sniproof " + r.file, Changes: changes})
	if importErr == nil {
		_, importErr = io.Copy(io.Discard, res)
		res.Close()
	}
	// Drain what the import left unread so mmdebstrap can finish.
	_, _ = io.Copy(io.Discard, out)
	waitErr := wait()
	cleanup := context.WithoutCancel(ctx)
	if waitErr != nil || importErr != nil {
		// An import that did not answer may still be finishing.
		settle := time.Duration(0)
		if importErr != nil {
			settle = settleBound
		}
		im.removePartial(cleanup, partial, settle)
	}
	if waitErr != nil {
		return nil, fmt.Errorf("mmdebstrap %s: %w\n%s", r.Release, waitErr, lastLines(stderr.String(), 15))
	}
	if importErr == nil {
		if _, err := im.Docker.ImageTag(cleanup, client.ImageTagOptions{Source: partial, Target: tag}); err != nil {
			importErr = fmt.Errorf("tag %s: %w", tag, err)
		}
		im.removePartial(cleanup, partial, 0)
	}
	if importErr != nil {
		return nil, fmt.Errorf("docker import: %w", importErr)
	}
	return installed(stderr.String()), nil
}

// base returns the essential root of the recipe's release, a tarball built
// once per Images: each image of the release starts from it and installs
// only its own packages, which saves each build the unpacking and
// configuring of the essential packages (two thirds of a small image's
// build). It lives in the Images's folder of bases until Close.
func (im *Images) base(ctx context.Context, r Recipe, mirror string) (string, error) {
	return im.once("base "+r.Release, func() (string, error) {
		dir, err := im.basesDir()
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, r.Release+".tar")
		im.progress("base %s: building the essential root its images start from ...", r.Release)
		cmd, stderr := mmdebstrap(ctx, r.baseArgs(mirror, path))
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("mmdebstrap %s, its essential root: %w\n%s", r.Release, err, lastLines(stderr.String(), 15))
		}
		return path, nil
	})
}

// basesPrefix starts the name of the folder of an Images's bases, followed
// by the process id of the run that made it and a random part.
const basesPrefix = "sniproof-bases-"

// basesDir returns the folder of the Images's bases, made on first use in
// BuildDir.
func (im *Images) basesDir() (string, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.bases == "" {
		dir, err := os.MkdirTemp(BuildDir(), basesPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			return "", fmt.Errorf("folder for the essential roots: %w", err)
		}
		im.bases = dir
	}
	return im.bases, nil
}

// sweepBases removes the folders of bases in BuildDir that runs no longer
// alive left (one killed before its Close), and returns how many.
func sweepBases() int {
	dirs, _ := filepath.Glob(filepath.Join(BuildDir(), basesPrefix+"*"))
	n := 0
	for _, dir := range dirs {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), basesPrefix), "-")
		id, err := strconv.Atoi(pid)
		if err != nil || id == os.Getpid() || syscall.Kill(id, 0) != syscall.ESRCH {
			continue
		}
		if os.RemoveAll(dir) == nil {
			n++
		}
	}
	return n
}

// BuildFolders lists what builds keep in BuildDir while they run:
// mmdebstrap's temporary roots and the Images's folders of bases. A run
// that ended leaves none of its own.
func BuildFolders() []string {
	var out []string
	for _, pattern := range []string{"mmdebstrap.*", basesPrefix + "*"} {
		matches, _ := filepath.Glob(filepath.Join(BuildDir(), pattern))
		out = append(out, matches...)
	}
	return out
}

// BuildDir is the folder of the builds' temporary roots and bases: TMPDIR
// when set, else /dev/shm when it is a tmpfs with TmpSpace free (the
// builds unpack and configure thousands of files: in memory, a whole nginx
// build took 19.0 s of CPU against 23.0 s in /tmp), else the system's
// temporary folder.
func BuildDir() string {
	if os.Getenv("TMPDIR") != "" {
		return os.TempDir()
	}
	var fs syscall.Statfs_t
	if syscall.Statfs(shm, &fs) == nil && fs.Type == tmpfsMagic && fs.Bavail*uint64(fs.Bsize) >= TmpSpace && syscall.Access(shm, 2) == nil {
		return shm
	}
	return os.TempDir()
}

const (
	shm        = "/dev/shm"
	tmpfsMagic = 0x01021994
)

// mmdebstrap returns the command of mmdebstrap with args, its temporary
// root in BuildDir, and the buffer of its standard error. On cancellation
// it lets mmdebstrap remove its temporary root (SIGTERM), and kills it
// only if it does not stop. The signal goes to its whole process group, as
// a terminal's would: signalled alone, mmdebstrap finishes the build first
// and is killed before it ends, leaving its temporary root mounted.
func mmdebstrap(ctx context.Context, args []string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+BuildDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// baseArgs are the arguments of mmdebstrap that writes the release's
// essential root, with the release's mirror lines, to the tarball target.
func (r Recipe) baseArgs(mirror, target string) []string {
	args := append([]string{"--variant=essential"}, r.commonArgs()...)
	// Man pages are left out, but some post-installation scripts (Java's
	// update-alternatives) need the folder to exist.
	args = append(args, `--essential-hook=mkdir -p "$1/usr/share/man/man1"`)
	return append(args, r.sources(mirror, target)...)
}

// mmdebstrapArgs are the arguments of mmdebstrap that installs the recipe's
// packages on the release's essential root, the tarball base, and writes
// the result to its standard output.
func (r Recipe) mmdebstrapArgs(mirror, base string) []string {
	args := append([]string{
		// The custom variant installs what --include names, and nothing
		// else, on what the setup hook unpacked.
		"--variant=custom",
		"--setup-hook=tar-in " + ShellQuote(base) + " /",
		"--include=" + strings.Join(r.Packages, ","),
	}, r.commonArgs()...)
	// The versions installed, for the build's progress line: a hook's
	// standard output goes to mmdebstrap's standard error.
	args = append(args, `--customize-hook=dpkg-query --admindir="$1/var/lib/dpkg" -W -f='`+installedMark+`${Package} ${Version}\n' `+strings.Join(r.packageNames(), " "))
	return append(args, r.sources(mirror, "-")...)
}

// commonArgs are the options of both of the recipe's builds: what dpkg
// leaves out, and the release's apt options.
func (r Recipe) commonArgs() []string {
	args := []string{
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
	}
	if debianReleases[r.Release].IgnoreValidUntil {
		args = append(args, "--aptopt="+noValidUntil)
	}
	return args
}

// sources are mmdebstrap's last arguments: the base system's suite, the
// target and the mirror, or the mirror lines of each suite.
func (r Recipe) sources(mirror, target string) []string {
	suites := r.suites()
	if len(suites) == 1 {
		return []string{r.Release, target, mirror}
	}
	args := []string{suites[0], target}
	for _, s := range suites {
		args = append(args, "deb "+mirror+" "+s+" main")
	}
	return args
}

// ShellQuote quotes s as one word of a POSIX shell.
func ShellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// packageNames are the recipe's packages without their suites.
func (r Recipe) packageNames() []string {
	var names []string
	for _, p := range r.Packages {
		name, _, _ := strings.Cut(p, "/")
		names = append(names, name)
	}
	return names
}

// installedMark starts each line of mmdebstrap's standard error that names
// a recipe package and its installed version.
const installedMark = "sniproof-installed: "

// installed returns "NAME VERSION" of each recipe package that
// mmdebstrap's standard error names, in its order.
func installed(stderr string) []string {
	var out []string
	for line := range strings.Lines(stderr) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), installedMark); ok {
			out = append(out, v)
		}
	}
	return out
}

// buildOutput is mmdebstrap's output as the import reads it. It ends
// cleanly only when mmdebstrap succeeded: a failed or interrupted
// mmdebstrap ends its output early, and an archive cut short at a file
// boundary (or before its first file) would import as a finished image.
type buildOutput struct {
	r    io.Reader
	wait func() error // mmdebstrap's exit, once its output ended
}

func (b *buildOutput) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		if werr := b.wait(); werr != nil {
			return n, fmt.Errorf("mmdebstrap: %w", werr)
		}
	}
	return n, err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// BinaryImageEnv names the image of the sniproof binary a process uses in
// place of Binary's. sniproof conformance sets it for its suites, so that
// their backends run the binary of the run's own images phase.
const BinaryImageEnv = "SNIPROOF_IMAGE_SNIPROOF"

// Binary returns a FROM-scratch image holding only a static sniproof
// binary at /sniproof: the running one when it is a static sniproof, else
// one compiled from the checkout or the module cache (see
// chooseBinarySource). Its tag is the binary's hash.
// BinaryImageEnv substitutes it.
func (im *Images) Binary(ctx context.Context) (string, error) {
	if ref := os.Getenv(BinaryImageEnv); ref != "" {
		im.progress("image sniproof: using %s from %s", ref, BinaryImageEnv)
		return im.substitute(ctx, ref, BinaryImageEnv)
	}
	return im.once("binary", func() (string, error) {
		src, err := findBinarySource()
		if err != nil {
			return "", &InfraError{Op: "build sniproof binary", Err: err}
		}
		if src.exe == "" {
			im.progress("image sniproof: compiling a static binary (%s) ...", src)
		}
		bin, err := src.binary(ctx)
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
		im.progress("image %s: built from %s", tag, src)
		return tag, nil
	})
}
