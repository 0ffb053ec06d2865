package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/client"
)

// The preflight checks, before a run builds an image or starts a suite,
// what it needs of the host, and says what is missing in one sentence each.
// These are its bounds.
const (
	// PreflightBound bounds the whole preflight.
	PreflightBound = 5 * time.Second
	// archiveBound bounds the request for each release's Release file.
	archiveBound = 3 * time.Second
	// DockerSpace is the free space building images needs where Docker
	// keeps them; TmpSpace is what mmdebstrap needs for its temporary root
	// filesystems. On one filesystem they add up.
	DockerSpace = 5 << 30
	TmpSpace    = 2 << 30
)

// Debian packages that provide what a build needs.
const (
	pkgMmdebstrap = "mmdebstrap"
	pkgKeyring    = "debian-archive-keyring"
)

// osReleaseFiles are where the host says which distribution it is, in the
// order os-release(5) gives.
var osReleaseFiles = []string{"/etc/os-release", "/usr/lib/os-release"}

// OSRelease is what the host's os-release file says of it.
type OSRelease struct {
	ID     string // "debian", "ubuntu", ...
	Pretty string // PRETTY_NAME, e.g. "Ubuntu 24.04 LTS"
}

// Debian reports whether the host is Debian itself, whose apt configuration
// names a Debian archive (Ubuntu's, although ID_LIKE=debian, names Ubuntu's).
func (o OSRelease) Debian() bool { return o.ID == "debian" }

// Name is the distribution as a person names it.
func (o OSRelease) Name() string {
	switch {
	case o.Pretty != "":
		return o.Pretty
	case o.ID != "":
		return o.ID
	}
	return "an unknown distribution"
}

// ParseOSRelease reads the ID and PRETTY_NAME of an os-release text:
// KEY=value lines, values optionally in single or double quotes, comments
// and blank lines ignored.
func ParseOSRelease(text string) OSRelease {
	var o OSRelease
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		switch key {
		case "ID":
			o.ID = strings.ToLower(value)
		case "PRETTY_NAME":
			o.Pretty = value
		}
	}
	return o
}

// HostOS reads the host's os-release file.
func HostOS() (OSRelease, error) {
	for _, f := range osReleaseFiles {
		if data, err := os.ReadFile(f); err == nil {
			return ParseOSRelease(string(data)), nil
		}
	}
	return OSRelease{}, fmt.Errorf("read the host's distribution: none of %s", strings.Join(osReleaseFiles, ", "))
}

// keyringDirs hold the Debian archive keys as the debian-archive-keyring
// package installs them.
var keyringDirs = []string{"/usr/share/keyrings", "/etc/apt/trusted.gpg.d"}

// ArchiveKey returns a file of Debian archive keys that verifies release,
// or "" when the host has none, so mmdebstrap could not verify it: the
// release's own key (debian-archive-RELEASE-stable or -automatic; .gpg, or
// .pgp and .asc as newer packages name them) or, for a release with no key
// of its own (testing, sid, experimental: the newest releases' automatic
// keys sign them), the whole keyring, debian-archive-keyring.
func ArchiveKey(release string) string {
	for _, name := range []string{"debian-archive-" + release + "-stable", "debian-archive-" + release + "-automatic", "debian-archive-keyring"} {
		for _, dir := range keyringDirs {
			for _, ext := range []string{".gpg", ".pgp", ".asc"} {
				f := filepath.Join(dir, name+ext)
				if _, err := os.Stat(f); err == nil {
					return f
				}
			}
		}
	}
	return ""
}

// withoutRecommends are the packages Run installs without their
// recommended packages: the reports' headless check needs none of
// Chromium's (udev, upower, Mesa's drivers, a printer dialog, a
// notification daemon).
var withoutRecommends = map[string]bool{"chromium": true}

// Install is how to install Debian packages the host lacks.
type Install struct {
	Packages []string
	// Auto says that sniproof can run Command itself: it runs as root on
	// a host with apt-get.
	Auto    bool
	Command []string
}

// PlanInstall chooses how to install pkgs: apt-get itself as root, with
// sudo otherwise; without apt-get there is no command to give.
func PlanInstall(pkgs []string, root, aptGet bool) Install {
	in := Install{Packages: pkgs}
	if !aptGet {
		return in
	}
	in.Auto = root
	in.Command = append([]string{"apt-get", "install", "-y"}, pkgs...)
	if !root {
		in.Command = append([]string{"sudo"}, in.Command...)
	}
	return in
}

// String is the command as a person types it, or what to do without one.
func (in Install) String() string {
	if len(in.Command) == 0 {
		return "install the Debian packages " + strings.Join(in.Packages, " ") + " (or their equivalent) with the host's package manager"
	}
	return "run `" + strings.Join(in.Command, " ") + "`"
}

// Run installs the packages with apt-get, its output on the caller's
// writers, in the steps of aptSteps.
func (in Install) Run(ctx context.Context, stdout, stderr io.Writer) error {
	if !in.Auto {
		return errors.New("install: not root with apt-get")
	}
	for _, args := range in.aptSteps() {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	return nil
}

// aptSteps are the arguments of each apt-get Run runs: update first,
// since a fresh machine's lists may be empty or stale; then the packages,
// those of withoutRecommends in an install of their own without their
// recommended packages.
func (in Install) aptSteps() [][]string {
	steps := [][]string{{"update", "-q"}}
	var with, without []string
	for _, p := range in.Packages {
		if withoutRecommends[p] {
			without = append(without, p)
		} else {
			with = append(with, p)
		}
	}
	if len(with) > 0 {
		steps = append(steps, append([]string{"install", "-y", "-q"}, with...))
	}
	if len(without) > 0 {
		steps = append(steps, append([]string{"install", "-y", "-q", "--no-install-recommends"}, without...))
	}
	return steps
}

// Space is the free space of one place a build writes to.
type Space struct {
	Role string // what it holds, e.g. "Docker's images"
	Path string
	Need uint64
	Free uint64
	Dev  uint64 // the filesystem's device: places on one device share their free space
}

// Short returns a sentence for every filesystem that has less free space
// than the places on it need together, in the order of the places.
func Short(spaces []Space) []string {
	need := map[uint64]uint64{}
	for _, s := range spaces {
		need[s.Dev] += s.Need
	}
	var out []string
	seen := map[uint64]bool{}
	for _, s := range spaces {
		if seen[s.Dev] || s.Free >= need[s.Dev] {
			continue
		}
		seen[s.Dev] = true
		var roles []string
		for _, t := range spaces {
			if t.Dev == s.Dev {
				roles = append(roles, fmt.Sprintf("%s in %s", t.Role, t.Path))
			}
		}
		out = append(out, fmt.Sprintf("only %s free on the filesystem of %s, which need %s: free some space (docker image prune, docker builder prune)",
			GiB(s.Free), strings.Join(roles, " and "), GiB(need[s.Dev])))
	}
	return out
}

// GiB formats a byte count in GiB, rounded down to one decimal so that
// a shortfall never reads as enough.
func GiB(n uint64) string { return fmt.Sprintf("%.1f GiB", math.Floor(float64(n)/(1<<30)*10)/10) }

// FreeSpace returns the free space of path's filesystem available to
// unprivileged users, and its device.
func FreeSpace(path string) (free, dev uint64, err error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(path, &fs); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", path, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", path, err)
	}
	return fs.Bavail * uint64(fs.Bsize), st.Dev, nil
}

// ReachArchive checks that the Debian archive at mirror serves release:
// that dists/RELEASE/Release answers 200 within hc's Timeout.
func ReachArchive(ctx context.Context, hc *http.Client, mirror, release string) error {
	u := strings.TrimRight(mirror, "/") + "/dists/" + release + "/Release"
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return fmt.Errorf("the Debian archive %s: %w", mirror, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = fmt.Errorf("no answer within %s", hc.Timeout)
		}
		return fmt.Errorf("the Debian archive %s does not answer (HEAD %s: %v): check the network, or set SNIPROOF_DEBIAN_MIRROR to an archive that answers", mirror, u, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the Debian archive %s has no release %s (HEAD %s: %s): set SNIPROOF_DEBIAN_MIRROR to a Debian archive", mirror, release, u, resp.Status)
	}
	return nil
}

// Preflight is what a run needs of the host.
type Preflight struct {
	Docker *client.Client
	// Recipes are the Debian images the run uses; those missing are built,
	// and only then do mmdebstrap, the archive and the disk matter.
	Recipes []Recipe
	// Commands are further programs the run starts, by the Debian package
	// that provides each, e.g. chromium for the reports' browser check.
	Commands map[string]string
}

// Findings are what the preflight found.
type Findings struct {
	// Build are the recipes whose image the engine lacks.
	Build []Recipe
	// Install are the Debian packages that provide what is missing.
	Install []string
	// Problems are the missing prerequisites no package provides, one
	// sentence each.
	Problems []string
	// Missing says in words what Install provides, e.g. "mmdebstrap is
	// not installed".
	Missing []string
	// Spaces are the free spaces checked for the builds.
	Spaces []Space
}

// Summary says in one line what the preflight found, for a run that uses
// images images.
func (f Findings) Summary(images int) string {
	if images == 0 {
		return "Docker answers; the suites use no Debian image"
	}
	line := fmt.Sprintf("Docker answers, %d of %d image(s) present", images-len(f.Build), images)
	if len(f.Build) == 0 {
		return line
	}
	var names []string
	for _, r := range f.Build {
		names = append(names, r.Image+"/"+r.Release)
	}
	var free []string
	for _, s := range f.Spaces {
		free = append(free, fmt.Sprintf("%s free in %s", GiB(s.Free), s.Path))
	}
	return fmt.Sprintf("%s; to build: %s, with mmdebstrap, the archive keys and a Debian archive that answers; %s",
		line, strings.Join(names, ", "), strings.Join(free, ", "))
}

// Check checks the host: which images must be built and, when any must,
// mmdebstrap, each release's archive key, a Debian archive that serves
// each release, and the free space; and the further commands. It needs
// Docker to answer already (Connect).
func (p Preflight) Check(ctx context.Context) (Findings, error) {
	var f Findings
	for _, r := range p.Recipes {
		if os.Getenv(r.EnvVar()) != "" {
			continue // a substitute image is pulled, never built
		}
		if _, err := p.Docker.ImageInspect(ctx, r.Tag()); err != nil {
			if !isNotFound(err) {
				return f, &InfraError{Op: "inspect image " + r.Tag(), Err: err}
			}
			f.Build = append(f.Build, r)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Commands)) {
		if _, err := exec.LookPath(name); err != nil {
			f.need(p.Commands[name], name+" is not installed")
		}
	}
	if len(f.Build) == 0 {
		return f, nil
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		f.need(pkgMmdebstrap, "mmdebstrap is not installed")
	}
	var releases []string
	for _, r := range f.Build {
		if !slices.Contains(releases, r.Release) {
			releases = append(releases, r.Release)
		}
	}
	var keyless []string
	for _, rel := range releases {
		if ArchiveKey(rel) == "" {
			keyless = append(keyless, rel)
		}
	}
	if len(keyless) > 0 {
		f.need(pkgKeyring, "the Debian archive key of "+strings.Join(keyless, " and ")+" is missing")
	}
	f.Problems = append(f.Problems, p.archive(ctx, releases)...)
	spaces, err := p.spaces(ctx)
	if err != nil {
		return f, err
	}
	f.Spaces = spaces
	f.Problems = append(f.Problems, Short(spaces)...)
	return f, nil
}

func (f *Findings) need(pkg, missing string) {
	if !slices.Contains(f.Install, pkg) {
		f.Install = append(f.Install, pkg)
	}
	f.Missing = append(f.Missing, missing)
}

// archive checks that a Debian archive serves every release, in parallel.
func (p Preflight) archive(ctx context.Context, releases []string) []string {
	host, err := HostOS()
	if err == nil && !host.Debian() && os.Getenv("SNIPROOF_DEBIAN_MIRROR") == "" {
		return []string{fmt.Sprintf("this host runs %s, whose apt configuration names no Debian archive to build the images from: "+
			"set SNIPROOF_DEBIAN_MIRROR to one (SNIPROOF_DEBIAN_MIRROR=http://HOST/debian make conformance)", host.Name())}
	}
	mirror, err := DebianMirror()
	if err != nil {
		return []string{err.Error()}
	}
	hc := &http.Client{Timeout: archiveBound}
	errs := make([]error, len(releases))
	var wg sync.WaitGroup
	for i, rel := range releases {
		wg.Go(func() { errs[i] = ReachArchive(ctx, hc, mirror, rel) })
	}
	wg.Wait()
	var out []string
	for _, err := range errs {
		if err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// spaces measures where the builds write: Docker's data folder, when the
// engine runs on this host, and mmdebstrap's temporary folder.
func (p Preflight) spaces(ctx context.Context) ([]Space, error) {
	var out []Space
	if strings.HasPrefix(p.Docker.DaemonHost(), "unix://") {
		info, err := p.Docker.Info(ctx, client.InfoOptions{})
		if err != nil {
			return nil, &InfraError{Op: "docker info", Err: err}
		}
		// A rootless or remote engine's folder is not this host's to measure.
		if root := info.Info.DockerRootDir; root != "" {
			if free, dev, err := FreeSpace(root); err == nil {
				out = append(out, Space{Role: "Docker's images", Path: root, Need: DockerSpace, Free: free, Dev: dev})
			}
		}
	}
	tmp := BuildDir()
	free, dev, err := FreeSpace(tmp)
	if err != nil {
		return nil, err
	}
	return append(out, Space{Role: "mmdebstrap's temporary roots", Path: tmp, Need: TmpSpace, Free: free, Dev: dev}), nil
}
