package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestParseOSRelease pins what the preflight reads of os-release(5):
// ID (lowercased) and PRETTY_NAME, quoted or not, and that Debian is ID=debian
// only: Ubuntu says ID_LIKE=debian but its apt names Ubuntu's archive.
func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		want       OSRelease
		wantDebian bool
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=bookworm\nID=debian\n",
			OSRelease{ID: "debian", Pretty: "Debian GNU/Linux 12 (bookworm)"}, true},
		{"ubuntu", "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=noble\n",
			OSRelease{ID: "ubuntu", Pretty: "Ubuntu 24.04.1 LTS"}, false},
		{"single quotes, spaces, comments", "# written by hand\n  ID='Debian'  \n\nPRETTY_NAME='Debian trixie'\n",
			OSRelease{ID: "debian", Pretty: "Debian trixie"}, true},
		{"unquoted", "ID=fedora\nPRETTY_NAME=Fedora\n", OSRelease{ID: "fedora", Pretty: "Fedora"}, false},
		{"a lone quote is kept", "ID=\"\n", OSRelease{ID: "\""}, false},
		{"ID_LIKE is not ID", "ID_LIKE=debian\n", OSRelease{}, false},
		{"empty", "", OSRelease{}, false},
		{"CRLF", "ID=debian\r\nPRETTY_NAME=\"Debian\"\r\n", OSRelease{ID: "debian", Pretty: "Debian"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseOSRelease(tt.text)
			if got != tt.want || got.Debian() != tt.wantDebian {
				t.Errorf("ParseOSRelease = %+v (Debian %v), want %+v (Debian %v)", got, got.Debian(), tt.want, tt.wantDebian)
			}
		})
	}
	if got := (OSRelease{ID: "arch"}).Name(); got != "arch" {
		t.Errorf("Name without PRETTY_NAME = %q, want the ID", got)
	}
	if got := (OSRelease{}).Name(); got != "an unknown distribution" {
		t.Errorf("Name of nothing = %q", got)
	}
}

// TestPlanInstall pins the install command the preflight runs or prints:
// apt-get itself as root, sudo apt-get otherwise, and words without apt-get.
func TestPlanInstall(t *testing.T) {
	pkgs := []string{"mmdebstrap", "debian-archive-keyring"}
	tests := []struct {
		name         string
		pkgs         []string
		root, aptGet bool
		wantAuto     bool
		want         string
	}{
		{"root with apt-get", pkgs, true, true, true, "run `apt-get install -y mmdebstrap debian-archive-keyring`"},
		{"user with apt-get", pkgs, false, true, false, "run `sudo apt-get install -y mmdebstrap debian-archive-keyring`"},
		{"root without apt-get", pkgs, true, false, false,
			"install the Debian packages mmdebstrap debian-archive-keyring (or their equivalent) with the host's package manager"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := PlanInstall(tt.pkgs, tt.root, tt.aptGet)
			if in.Auto != tt.wantAuto || in.String() != tt.want {
				t.Errorf("PlanInstall = auto %v %q, want auto %v %q", in.Auto, in.String(), tt.wantAuto, tt.want)
			}
		})
	}
	if err := PlanInstall(pkgs, false, true).Run(context.Background(), nil, nil); err == nil {
		t.Error("Run of a plan sniproof cannot run itself did not fail")
	}
	steps := PlanInstall([]string{"chromium", "mmdebstrap"}, true, true).aptSteps()
	want := [][]string{{"update", "-q"}, {"install", "-y", "-q", "mmdebstrap"}, {"install", "-y", "-q", "--no-install-recommends", "chromium"}}
	if !slices.EqualFunc(steps, want, slices.Equal) {
		t.Errorf("apt-get steps = %q, want %q (chromium without its recommends)", steps, want)
	}
	if steps := PlanInstall([]string{"chromium"}, true, true).aptSteps(); len(steps) != 2 {
		t.Errorf("apt-get steps of chromium alone = %q, want update and one install", steps)
	}
}

// TestShort pins the disk check's arithmetic: places on one filesystem add
// their needs up; each short filesystem is one sentence naming its places.
func TestShort(t *testing.T) {
	docker := func(free, dev uint64) Space {
		return Space{Role: "Docker's images", Path: "/var/lib/docker", Need: DockerSpace, Free: free, Dev: dev}
	}
	tmp := func(free, dev uint64) Space {
		return Space{Role: "mmdebstrap's temporary roots", Path: "/tmp", Need: TmpSpace, Free: free, Dev: dev}
	}
	tests := []struct {
		name   string
		spaces []Space
		want   []string
	}{
		{"apart, both enough", []Space{docker(DockerSpace, 1), tmp(TmpSpace, 2)}, nil},
		{"one filesystem, enough for both", []Space{docker(DockerSpace+TmpSpace, 1), tmp(DockerSpace+TmpSpace, 1)}, nil},
		{"one filesystem, enough for one only", []Space{docker(DockerSpace, 1), tmp(DockerSpace, 1)}, []string{
			"only 5.0 GiB free on the filesystem of Docker's images in /var/lib/docker and mmdebstrap's temporary roots in /tmp, which need 7.0 GiB: " +
				"free some space (docker image prune, docker builder prune)"}},
		{"apart, tmp short by a byte", []Space{docker(100<<30, 1), tmp(TmpSpace-1, 2)}, []string{
			"only 1.9 GiB free on the filesystem of mmdebstrap's temporary roots in /tmp, which need 2.0 GiB: free some space (docker image prune, docker builder prune)"}},
		{"apart, both short", []Space{docker(1<<30, 1), tmp(0, 2)}, []string{
			"only 1.0 GiB free on the filesystem of Docker's images in /var/lib/docker, which need 5.0 GiB: free some space (docker image prune, docker builder prune)",
			"only 0.0 GiB free on the filesystem of mmdebstrap's temporary roots in /tmp, which need 2.0 GiB: free some space (docker image prune, docker builder prune)"}},
		{"remote engine: tmp only", []Space{tmp(TmpSpace, 2)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Short(tt.spaces); !slices.Equal(got, tt.want) {
				t.Errorf("Short =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	if free, _, err := FreeSpace(t.TempDir()); err != nil || free == 0 {
		t.Errorf("FreeSpace of a temporary folder = %d, %v", free, err)
	}
	if _, _, err := FreeSpace("/no/such/folder"); err == nil {
		t.Error("FreeSpace of a missing folder did not fail")
	}
}

// TestReachArchive pins the archive check: the release's Release file
// must answer 200; another status names the release, no answer the bound.
func TestReachArchive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/debian/dists/bookworm/Release":
			if r.Method != http.MethodHead {
				t.Errorf("method %s, want HEAD", r.Method)
			}
		case "/debian/dists/slow/Release":
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := ReachArchive(ctx, srv.Client(), srv.URL+"/debian/", "bookworm"); err != nil {
		t.Errorf("a mirror with a trailing slash: %v", err)
	}
	err := ReachArchive(ctx, srv.Client(), srv.URL+"/ubuntu", "bookworm")
	if err == nil || !strings.Contains(err.Error(), "has no release bookworm") || !strings.Contains(err.Error(), "404") ||
		!strings.Contains(err.Error(), "SNIPROOF_DEBIAN_MIRROR") {
		t.Errorf("a mirror without the release: %v", err)
	}
	impatient := srv.Client()
	impatient.Timeout = 200 * time.Millisecond
	start := time.Now()
	err = ReachArchive(ctx, impatient, srv.URL+"/debian", "slow")
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") || time.Since(start) > time.Second {
		t.Errorf("a mirror that does not answer: %v after %s", err, time.Since(start))
	}
	if err := ReachArchive(ctx, srv.Client(), "http://127.0.0.1:1/debian", "bookworm"); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("a mirror nothing listens at: %v", err)
	}
}

// TestPreflightArchive pins the archive check of a build: a host that is
// not Debian, without SNIPROOF_DEBIAN_MIRROR, is told to set it; with it
// set, each release's Release file is asked for.
func TestPreflightArchive(t *testing.T) {
	osRelease := filepath.Join(t.TempDir(), "os-release")
	if err := os.WriteFile(osRelease, []byte("PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\nID_LIKE=debian\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := osReleaseFiles
	osReleaseFiles = []string{osRelease}
	t.Cleanup(func() { osReleaseFiles = saved })
	t.Setenv("SNIPROOF_DEBIAN_MIRROR", "")
	got := Preflight{}.archive(context.Background(), []string{"bookworm"})
	want := "this host runs Ubuntu 24.04.1 LTS, whose apt configuration names no Debian archive to build the images from: " +
		"set SNIPROOF_DEBIAN_MIRROR to one (SNIPROOF_DEBIAN_MIRROR=http://HOST/debian make conformance)"
	if len(got) != 1 || got[0] != want {
		t.Errorf("on Ubuntu without SNIPROOF_DEBIAN_MIRROR: %q, want %q", got, want)
	}

	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		if r.URL.Path != "/debian/dists/bookworm/Release" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("SNIPROOF_DEBIAN_MIRROR", srv.URL+"/debian")
	got = Preflight{}.archive(context.Background(), []string{"bookworm", "forky"})
	if len(got) != 1 || !strings.Contains(got[0], "has no release forky") {
		t.Errorf("with SNIPROOF_DEBIAN_MIRROR: %q, want one problem, forky's", got)
	}
	slices.Sort(asked)
	if !slices.Equal(asked, []string{"/debian/dists/bookworm/Release", "/debian/dists/forky/Release"}) {
		t.Errorf("asked for %q", asked)
	}
}

// TestFindingsSummary pins the preflight's progress line.
func TestFindingsSummary(t *testing.T) {
	if got := (Findings{}).Summary(0); got != "Docker answers; the suites use no Debian image" {
		t.Errorf("no image: %q", got)
	}
	if got := (Findings{}).Summary(11); got != "Docker answers, 11 of 11 image(s) present" {
		t.Errorf("all present: %q", got)
	}
	f := Findings{Build: []Recipe{{Image: "nginx", Release: "trixie"}},
		Spaces: []Space{{Path: "/var/lib/docker", Free: 76 << 30}, {Path: "/tmp", Free: 76 << 30}}}
	want := "Docker answers, 10 of 11 image(s) present; to build: nginx/trixie, with mmdebstrap, the archive keys and a Debian archive that answers; " +
		"76.0 GiB free in /var/lib/docker, 76.0 GiB free in /tmp"
	if got := f.Summary(11); got != want {
		t.Errorf("one to build:\n%q\nwant\n%q", got, want)
	}
}
