package harness

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mimage "github.com/moby/moby/api/types/image"
)

// TestParseRecipe pins the recipe format: one Debian package name per line,
// comments and blank lines ignored, surrounding space trimmed; a bad line is
// an error naming file:line, and a list without packages an error naming
// the file.
func TestParseRecipe(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
		wantErr string
	}{
		{"plain", "nginx\nlibnginx-mod-stream\n", []string{"nginx", "libnginx-mod-stream"}, ""},
		{"comments and blanks", "# header\n\nnginx\n   # indented comment\n  libssl3  \n\n", []string{"nginx", "libssl3"}, ""},
		{"CRLF", "nginx\r\nca-certificates\r\n", []string{"nginx", "ca-certificates"}, ""},
		{"symbols", "g++\nlibstdc++6\npython3.11\n", []string{"g++", "libstdc++6", "python3.11"}, ""},
		{"no final newline", "nginx", []string{"nginx"}, ""},
		{"uppercase", "nginx\nNginx\n", nil, `docker/nginx/test.packages:2: want one Debian package name per line, got "Nginx"`},
		{"two on a line", "# c\nnginx curl\n", nil, `docker/nginx/test.packages:2: want one Debian package name per line, got "nginx curl"`},
		{"inline comment", "nginx # web\n", nil, "docker/nginx/test.packages:1:"},
		{"one letter", "\n\n\na\n", nil, `docker/nginx/test.packages:4:`},
		{"leading dash", "-nginx\n", nil, "docker/nginx/test.packages:1:"},
		{"empty", "", nil, "docker/nginx/test.packages: no package listed"},
		{"only comments", "# nothing\n\n# here\n", nil, "docker/nginx/test.packages: no package listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRecipe("nginx", "test", "docker/nginx/test.packages", []byte(tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseRecipe = %v, %v; want an error containing %q", r.Packages, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRecipe: %v", err)
			}
			if !slices.Equal(r.Packages, tt.want) || r.Image != "nginx" || r.Release != "test" {
				t.Errorf("parseRecipe = %s/%s %q, want nginx/test %q", r.Image, r.Release, r.Packages, tt.want)
			}
		})
	}
}

// TestLoadRecipe pins that the embedded recipes load and that an unknown
// one is an error naming the file it looked for.
func TestLoadRecipe(t *testing.T) {
	for _, release := range []string{"bookworm", "trixie"} {
		r, err := LoadRecipe("nginx", release)
		if err != nil {
			t.Errorf("LoadRecipe(nginx, %s): %v", release, err)
			continue
		}
		if !slices.Contains(r.Packages, "nginx") {
			t.Errorf("nginx/%s packages = %q, want nginx among them", release, r.Packages)
		}
	}
	if _, err := LoadRecipe("nginx", "sid"); err == nil || !strings.Contains(err.Error(), "docker/nginx/sid.packages") {
		t.Errorf("LoadRecipe(nginx, sid) = %v, want an error naming docker/nginx/sid.packages", err)
	}
}

// TestRecipeTag pins content addressing: the tag is
// sniproof/IMAGE:RELEASE-<12 hex>, the same for the same recipe, and
// different when the package list, the release or the image changes.
func TestRecipeTag(t *testing.T) {
	parse := func(image, release, content string) Recipe {
		t.Helper()
		r, err := parseRecipe(image, release, "docker/"+image+"/"+release+".packages", []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := parse("nginx", "bookworm", "nginx\nlibnginx-mod-stream\n")
	tag := base.Tag()
	if !regexp.MustCompile(`^sniproof/nginx:bookworm-[0-9a-f]{12}$`).MatchString(tag) {
		t.Fatalf("Tag = %q, want sniproof/nginx:bookworm-<12 hex digits>", tag)
	}
	if again := parse("nginx", "bookworm", "nginx\nlibnginx-mod-stream\n").Tag(); again != tag {
		t.Errorf("Tag of the same recipe = %q, then %q", tag, again)
	}
	if base.Tag() != tag {
		t.Error("Tag is not stable across calls")
	}
	for name, other := range map[string]Recipe{
		"package added":   parse("nginx", "bookworm", "nginx\nlibnginx-mod-stream\ncurl\n"),
		"package removed": parse("nginx", "bookworm", "nginx\n"),
		"release":         parse("nginx", "trixie", "nginx\nlibnginx-mod-stream\n"),
		"image":           parse("angie", "bookworm", "nginx\nlibnginx-mod-stream\n"),
	} {
		if other.Tag() == tag {
			t.Errorf("%s: Tag unchanged (%q)", name, tag)
		}
	}
	// The embedded recipes: distinct, and stable across loads.
	a, _ := LoadRecipe("nginx", "bookworm")
	b, _ := LoadRecipe("nginx", "trixie")
	a2, _ := LoadRecipe("nginx", "bookworm")
	if a.Tag() == b.Tag() || a.Tag() != a2.Tag() {
		t.Errorf("embedded tags: bookworm %q (again %q), trixie %q", a.Tag(), a2.Tag(), b.Tag())
	}
}

// TestRecipeEnvVar pins the name of the variable that substitutes an image.
func TestRecipeEnvVar(t *testing.T) {
	tests := []struct{ image, release, want string }{
		{"nginx", "bookworm", "SNIPROOF_IMAGE_NGINX_BOOKWORM"},
		{"nginx", "trixie", "SNIPROOF_IMAGE_NGINX_TRIXIE"},
		{"my-proxy", "v1.2", "SNIPROOF_IMAGE_MY_PROXY_V1_2"},
	}
	for _, tt := range tests {
		if got := (Recipe{Image: tt.image, Release: tt.release}).EnvVar(); got != tt.want {
			t.Errorf("EnvVar(%s, %s) = %q, want %q", tt.image, tt.release, got, tt.want)
		}
	}
}

// TestLastLines pins lastLines: at most n lines, the last ones, without the
// trailing newline.
func TestLastLines(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"a\nb\nc\n", 3, "a\nb\nc"},
		{"", 3, ""},
		{"only\n", 1, "only"},
	}
	for _, tt := range tests {
		if got := lastLines(tt.s, tt.n); got != tt.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// TestModuleRoot pins that ModuleRoot finds this module's go.mod from a
// folder inside it, and fails outside it.
func TestModuleRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if root != filepath.Dir(wd) {
		t.Errorf("ModuleRoot = %q, want %q (the parent of harness/)", root, filepath.Dir(wd))
	}
	t.Chdir(t.TempDir())
	if root, err := ModuleRoot(); err == nil {
		t.Errorf("ModuleRoot outside the module = %q, want an error", root)
	}
}

// TestIsPartialTag pins which tags are an unfinished build's: a repository
// under sniproof/ and a tag containing -partial-, nothing else.
func TestIsPartialTag(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"sniproof/nginx:bookworm-b10c06490a6c-partial-deadbeef0123", true},
		{"sniproof/nginx:bookworm-000000000000-partial-deadbeef", true},
		{"sniproof/haproxy:trixie-partial-x", true},
		{"sniproof/nginx:bookworm-b10c06490a6c", false},
		{"sniproof/sniproof:0123456789ab", false},
		{"example/nginx:bookworm-b10c06490a6c-partial-deadbeef", false},
		{"mysniproof/nginx:x-partial-y", false},
		{"sniproof/nginx-partial-x:latest", false},
		{"localhost:5000/sniproof/nginx:x-partial-y", false},
		{"sniproof/nginx", false},
		{"<none>:<none>", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsPartialTag(tt.ref); got != tt.want {
			t.Errorf("IsPartialTag(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

// TestPartialTags pins what a sweep removes: the partial tags, sorted, of
// images created strictly before the cut-off (any with a zero one) and,
// for a session's sweep, carrying its build label; never a finished tag,
// even of an image that also has a partial one.
func TestPartialTags(t *testing.T) {
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	images := []mimage.Summary{
		{Created: start.Add(-time.Hour).Unix(), RepoTags: []string{"sniproof/nginx:bookworm-aaaaaaaaaaaa-partial-111111111111"},
			Labels: map[string]string{LabelBuild: "s1"}},
		{Created: start.Add(-time.Minute).Unix(), RepoTags: []string{
			"sniproof/nginx:trixie-bbbbbbbbbbbb", "sniproof/nginx:trixie-bbbbbbbbbbbb-partial-222222222222"},
			Labels: map[string]string{LabelBuild: "s2"}},
		{Created: start.Add(-5 * time.Second).Unix(), RepoTags: []string{"sniproof/nginx:bookworm-000000000000-partial-deadbeef"}},
		{Created: start.Unix(), RepoTags: []string{"sniproof/haproxy:bookworm-cccccccccccc-partial-333333333333"},
			Labels: map[string]string{LabelBuild: "s1"}},
		{Created: start.Add(time.Second).Unix(), RepoTags: []string{"sniproof/haproxy:trixie-dddddddddddd-partial-444444444444"}},
		{Created: start.Add(-time.Hour).Unix(), RepoTags: []string{"sniproof/apache:bookworm-eeeeeeeeeeee"}},
		{Created: start.Add(-time.Hour).Unix(), RepoTags: []string{"other/nginx:x-partial-y"}},
		{Created: start.Add(-time.Hour).Unix()},
	}
	tests := []struct {
		name    string
		before  time.Time
		session string
		want    []string
	}{
		{"older than the run", start, "", []string{
			"sniproof/nginx:bookworm-000000000000-partial-deadbeef",
			"sniproof/nginx:bookworm-aaaaaaaaaaaa-partial-111111111111",
			"sniproof/nginx:trixie-bbbbbbbbbbbb-partial-222222222222",
		}},
		{"older than the run less the grace", start.Add(-staleGrace), "", []string{
			"sniproof/nginx:bookworm-aaaaaaaaaaaa-partial-111111111111",
			"sniproof/nginx:trixie-bbbbbbbbbbbb-partial-222222222222",
		}},
		{"long before", start.Add(-30 * time.Minute), "", []string{"sniproof/nginx:bookworm-aaaaaaaaaaaa-partial-111111111111"}},
		{"all", time.Time{}, "", []string{
			"sniproof/haproxy:bookworm-cccccccccccc-partial-333333333333",
			"sniproof/haproxy:trixie-dddddddddddd-partial-444444444444",
			"sniproof/nginx:bookworm-000000000000-partial-deadbeef",
			"sniproof/nginx:bookworm-aaaaaaaaaaaa-partial-111111111111",
			"sniproof/nginx:trixie-bbbbbbbbbbbb-partial-222222222222",
		}},
		{"one session's", time.Time{}, "s1", []string{
			"sniproof/haproxy:bookworm-cccccccccccc-partial-333333333333",
			"sniproof/nginx:bookworm-aaaaaaaaaaaa-partial-111111111111",
		}},
		{"an unknown session's", time.Time{}, "s3", nil},
		{"none", start.Add(-2 * time.Hour), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := partialTags(images, tt.before, tt.session); !slices.Equal(got, tt.want) {
				t.Errorf("partialTags = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBuildOutput pins that the import sees mmdebstrap's output end cleanly
// only when mmdebstrap succeeded: otherwise the end of the output is an
// error, so that an archive cut short is never imported as an image.
func TestBuildOutput(t *testing.T) {
	failed := errors.New("signal: interrupt")
	for _, tt := range []struct {
		name    string
		exit    error
		wantErr error
	}{
		{"success", nil, nil},
		{"interrupted", failed, failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			waited := 0
			b := &buildOutput{r: strings.NewReader("root filesystem"), wait: func() error { waited++; return tt.exit }}
			got, err := io.ReadAll(b)
			if string(got) != "root filesystem" {
				t.Errorf("read %q, want all of the output", got)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("ReadAll error = %v, want %v", err, tt.wantErr)
			}
			if waited != 1 {
				t.Errorf("wait called %d times, want once, at the end", waited)
			}
		})
	}
	empty := &buildOutput{r: strings.NewReader(""), wait: func() error { return failed }}
	if n, err := empty.Read(make([]byte, 8)); n != 0 || !errors.Is(err, failed) {
		t.Errorf("empty output of a failed mmdebstrap: Read = %d, %v, want 0 and its error", n, err)
	}
}

// TestImagesCloseNil pins that closing Images that never connected, or
// none, is a no-op.
func TestImagesCloseNil(t *testing.T) {
	var im *Images
	if err := im.Close(t.Context()); err != nil {
		t.Errorf("nil Images.Close = %v", err)
	}
	im = &Images{}
	im.record("sniproof/nginx:bookworm-000000000000-partial-deadbeef")
	if err := im.Close(t.Context()); err != nil {
		t.Errorf("Images without Docker: Close = %v", err)
	}
}

// TestBuildDir pins where builds unpack: TMPDIR when the caller set it,
// else /dev/shm or the system's temporary folder.
func TestBuildDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	if got := BuildDir(); got != dir {
		t.Errorf("BuildDir with TMPDIR=%s = %s", dir, got)
	}
	t.Setenv("TMPDIR", "")
	if got := BuildDir(); got != shm && got != os.TempDir() {
		t.Errorf("BuildDir = %s, want %s or %s", got, shm, os.TempDir())
	}
}

// TestSweepBases pins that a run removes the folders of bases that ended
// runs left, and keeps those of runs alive (its own among them) and any
// folder whose name carries no process id.
func TestSweepBases(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ended := exec.Command("true")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	folder := func(name string) string {
		dir := filepath.Join(BuildDir(), basesPrefix+name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	gone := folder(strconv.Itoa(ended.Process.Pid) + "-a1")
	kept := []string{folder(strconv.Itoa(os.Getpid()) + "-b2"), folder("1-c3"), folder("x-d4")}
	if n := sweepBases(); n != 1 {
		t.Errorf("sweepBases removed %d folder(s), want 1", n)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("%s of an ended run remains (%v)", gone, err)
	}
	for _, dir := range kept {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s removed: %v", dir, err)
		}
	}
	if got := len(BuildFolders()); got != len(kept) {
		t.Errorf("BuildFolders lists %d, want %d", got, len(kept))
	}
}
