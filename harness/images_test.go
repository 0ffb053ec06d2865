package harness

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
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
