package check

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/lint"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const site = "server {\n    listen 8080;\n    location / {\n        proxy_pass https://api.example.test;\n    }\n}\n"

// TestLoadConfigShapes: a main file, a folder holding nginx.conf, a folder
// of site files and a site file alone, the last two wrapped.
func TestLoadConfigShapes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"whole/nginx.conf":      "events {}\nhttp {\n    include sites/*.conf;\n}\n",
		"whole/sites/a.conf":    site,
		"sites/a.conf":          site,
		"sites/b":               strings.ReplaceAll(site, "8080", "8081"),
		"sites/README.md":       "not a site\n",
		"sites/.hidden.conf":    "broken {",
		"sites/snippets/x.conf": "proxy_ssl_server_name on;\n",
		"alone/shop.conf":       site,
		"empty/notes.txt":       "nothing\n",
	})
	for _, tc := range []struct {
		named, main string
		wrapped     bool
		passes      int
	}{
		{"whole/nginx.conf", "/etc/nginx/nginx.conf", false, 1},
		{"whole", "/etc/nginx/nginx.conf", false, 1},
		{"sites", "/etc/nginx/sniproof-main.conf", true, 2},
		{"alone/shop.conf", "/etc/nginx/sniproof-main.conf", true, 1},
	} {
		c, err := LoadConfig(filepath.Join(dir, tc.named), "")
		if err != nil {
			t.Errorf("%s: %v", tc.named, err)
			continue
		}
		if c.Main() != tc.main || c.Wrapped != tc.wrapped || len(NewPlan(c).Passes) != tc.passes {
			t.Errorf("%s: main %s wrapped %v passes %d, want %s %v %d", tc.named, c.Main(), c.Wrapped, len(NewPlan(c).Passes), tc.main, tc.wrapped, tc.passes)
		}
	}
	c, _ := LoadConfig(filepath.Join(dir, "sites"), "")
	if got := strings.Join(c.Sites, ","); got != "a.conf,b" {
		t.Errorf("wrapped sites %s, want a.conf,b", got)
	}

	for _, tc := range []struct{ named, want string }{
		{"absent.conf", "cannot read the configuration " + filepath.Join(dir, "absent.conf") + ": no such file or directory"},
		{"empty", "has neither nginx.conf nor site files"},
	} {
		_, err := LoadConfig(filepath.Join(dir, tc.named), "")
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a UsageError with %q", tc.named, err, tc.want)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "whole"), "etc/nginx"); err == nil || !strings.Contains(err.Error(), "--conf-dir must be an absolute path") {
		t.Errorf("relative --conf-dir: %v", err)
	}
}

// TestLoadConfigUnparsable: a file check's parser cannot read is a
// *lint.ConfigError with the file and line, and the Config still names the
// folder, so that nginx -t can give its own verdict.
func TestLoadConfigUnparsable(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"nginx.conf": "events {}\nhttp {\n    include sites/*.conf;\n}\n", "sites/a.conf": "server {\n    listen 80;\n"})
	c, err := LoadConfig(filepath.Join(dir, "nginx.conf"), "")
	var ce *lint.ConfigError
	if !errors.As(err, &ce) || ce.File != "sites/a.conf" || ce.Line != 2 {
		t.Fatalf("error %v, want a ConfigError at sites/a.conf:2", err)
	}
	if c == nil || c.Tree == nil || c.Tree.Options.HostDir != dir {
		t.Errorf("config %+v, want one naming %s", c, dir)
	}
}

// TestParseRoot: --root takes an absolute folder of the proxy's host and
// a folder on this machine; anything else is one sentence.
func TestParseRoot(t *testing.T) {
	dir := t.TempDir()
	if r, err := ParseRoot("/etc/letsencrypt/=" + dir); err != nil || r.Container != "/etc/letsencrypt" || r.Host != dir {
		t.Errorf("ParseRoot: %+v, %v", r, err)
	}
	for _, bad := range []string{"/etc/letsencrypt", "etc/letsencrypt=" + dir, "/etc/letsencrypt=" + dir + "/missing", "=" + dir} {
		var ue *UsageError
		if _, err := ParseRoot(bad); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--root") {
			t.Errorf("ParseRoot(%q): %v, want a usage error naming --root", bad, err)
		}
	}
}
