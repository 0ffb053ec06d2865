package harness

import (
	"slices"
	"strings"
	"testing"
)

// TestRecipeSuites pins the NAME/SUITE recipe line: it names a suite of the
// release's mirror lines, and any other suite is an error naming file:line.
func TestRecipeSuites(t *testing.T) {
	tests := []struct {
		release, content string
		want             []string
		wantErr          string
	}{
		{"experimental", "haproxy/experimental\n", []string{"haproxy/experimental"}, ""},
		{"experimental", "haproxy/sid\nca-certificates\n", []string{"haproxy/sid", "ca-certificates"}, ""},
		{"bookworm", "haproxy/bookworm\n", []string{"haproxy/bookworm"}, ""},
		{"forky", "# c\nhaproxy/experimental\n", nil,
			`docker/haproxy/forky.packages:2: haproxy/experimental: suite "experimental" is not one of release forky's (forky)`},
		{"bookworm", "haproxy/\n", nil, "docker/haproxy/bookworm.packages:1: want one Debian package name per line"},
		{"bookworm", "haproxy/a/b\n", nil, "docker/haproxy/bookworm.packages:1: want one Debian package name per line"},
		{"bookworm", "haproxy/Experimental\n", nil, "docker/haproxy/bookworm.packages:1: want one Debian package name per line"},
	}
	for _, tt := range tests {
		file := "docker/haproxy/" + tt.release + ".packages"
		r, err := parseRecipe("haproxy", tt.release, file, []byte(tt.content))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s %q: parseRecipe = %q, %v; want an error containing %q", tt.release, tt.content, r.Packages, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(r.Packages, tt.want) {
			t.Errorf("%s %q: parseRecipe = %q, %v; want %q", tt.release, tt.content, r.Packages, err, tt.want)
		}
	}
}

// TestMmdebstrapArgs pins how each kind of release is fetched, by both of
// a recipe's builds (its release's essential root, then its packages on
// that root): a stable release from the mirror as its one suite; forky with
// the Valid-Until check off; experimental on a sid base with both mirror
// lines. The package build unpacks the root first and installs only what
// the recipe names; the hook that reports the installed versions names the
// packages without suites.
func TestMmdebstrapArgs(t *testing.T) {
	const mirror, base = "http://mirror.example/debian", "/dev/shm/sniproof-bases-1-x/it's.tar"
	tail := func(args []string, n int) []string { return args[len(args)-n:] }
	parse := func(release, content string) Recipe {
		t.Helper()
		r, err := parseRecipe("haproxy", release, "docker/haproxy/"+release+".packages", []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	type build struct {
		name, target string
		args         []string
	}
	builds := func(r Recipe) []build {
		return []build{{"base", "/tmp/root.tar", r.baseArgs(mirror, "/tmp/root.tar")}, {"packages", "-", r.mmdebstrapArgs(mirror, base)}}
	}

	bookworm := builds(parse("bookworm", "haproxy\n"))
	for _, b := range bookworm {
		if got := tail(b.args, 3); !slices.Equal(got, []string{"bookworm", b.target, mirror}) {
			t.Errorf("bookworm %s: suite, target, mirror = %q", b.name, got)
		}
		if slices.Contains(b.args, "--aptopt="+noValidUntil) {
			t.Errorf("bookworm %s: %q turns the Valid-Until check off", b.name, b.args)
		}
		if !slices.Contains(b.args, "--dpkgopt=path-exclude=/usr/share/doc/*") {
			t.Errorf("bookworm %s: %q keeps the documentation", b.name, b.args)
		}
	}
	base0, pkgs := bookworm[0].args, bookworm[1].args
	if !slices.Contains(base0, "--variant=essential") || slices.ContainsFunc(base0, func(a string) bool { return strings.HasPrefix(a, "--include") }) {
		t.Errorf("base: %q, want the essential variant and no package", base0)
	}
	if want := `--setup-hook=tar-in '/dev/shm/sniproof-bases-1-x/it'\''s.tar' /`; !slices.Contains(pkgs, "--variant=custom") || !slices.Contains(pkgs, want) {
		t.Errorf("packages: %q, want the custom variant on the base unpacked by %s", pkgs, want)
	}

	for _, b := range builds(parse("forky", "haproxy\n")) {
		if got := tail(b.args, 3); !slices.Equal(got, []string{"forky", b.target, mirror}) {
			t.Errorf("forky %s: suite, target, mirror = %q", b.name, got)
		}
		if !slices.Contains(b.args, `--aptopt=Acquire::Check-Valid-Until "false"`) {
			t.Errorf("forky %s: %q keeps the Valid-Until check", b.name, b.args)
		}
	}

	experimental := builds(parse("experimental", "haproxy/experimental\n"))
	for _, b := range experimental {
		want := []string{"sid", b.target, "deb " + mirror + " sid main", "deb " + mirror + " experimental main"}
		if got := tail(b.args, 4); !slices.Equal(got, want) {
			t.Errorf("experimental %s: suite, target, mirror lines = %q, want %q", b.name, got, want)
		}
		if !slices.Contains(b.args, "--aptopt="+noValidUntil) {
			t.Errorf("experimental %s: %q lacks the Valid-Until option", b.name, b.args)
		}
	}
	exp := experimental[1].args
	if !slices.Contains(exp, "--include=haproxy/experimental") {
		t.Errorf("experimental: %q lacks the pinned include", exp)
	}
	for _, a := range exp {
		if strings.HasPrefix(a, "--customize-hook=") && (!strings.HasSuffix(a, "' haproxy") || strings.Contains(a, "haproxy/")) {
			t.Errorf("experimental: hook %q, want it to query the package haproxy", a)
		}
	}
}

// TestReleaseTags pins that a release of the release table is addressed by
// how it is built too: the same packages with other mirror lines, or with
// the Valid-Until check on, get another tag.
func TestReleaseTags(t *testing.T) {
	r := Recipe{Image: "haproxy", Release: "experimental", Packages: []string{"haproxy/experimental"}}
	base := r.Tag()
	saved := debianReleases["experimental"]
	t.Cleanup(func() { debianReleases["experimental"] = saved })
	for name, rel := range map[string]debianRelease{
		"forky base":        {Suites: []string{"forky", "experimental"}, IgnoreValidUntil: true},
		"Valid-Until check": {Suites: []string{"sid", "experimental"}},
	} {
		debianReleases["experimental"] = rel
		if r.Tag() == base {
			t.Errorf("%s: tag unchanged (%q)", name, base)
		}
	}
	debianReleases["experimental"] = saved
	if r.Tag() != base {
		t.Errorf("tag %q, then %q", base, r.Tag())
	}
	for _, release := range []string{"forky", "experimental"} {
		if _, err := LoadRecipe("haproxy", release); err != nil {
			t.Errorf("LoadRecipe(haproxy, %s): %v", release, err)
		}
	}
}

// TestInstalled pins the reading of the versions the build's hook prints
// among mmdebstrap's other lines.
func TestInstalled(t *testing.T) {
	stderr := "I: running --customize-hook in shell\n" + installedMark + "haproxy 3.4.7-1\nI: creating tarball...\n" + installedMark + "curl 8.5.0-2\n"
	if got, want := installed(stderr), []string{"haproxy 3.4.7-1", "curl 8.5.0-2"}; !slices.Equal(got, want) {
		t.Errorf("installed = %q, want %q", got, want)
	}
	if got := installed("I: done\n"); got != nil {
		t.Errorf("installed without marks = %q, want none", got)
	}
}
