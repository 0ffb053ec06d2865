package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLoadTreeMapsIncludes: a configuration is read as nginx reads it in
// a container whose /etc/nginx mirrors its folder: absolute includes under
// /etc/nginx come from the folder, relative ones are resolved against
// /etc/nginx, others are left to the image.
func TestLoadTreeMapsIncludes(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"nginx.conf": "include /etc/nginx/modules-enabled/*.conf;\nevents {}\nhttp {\n    include /etc/nginx/mime.types;\n" +
			"    include /usr/share/nginx/extra.conf;\n    include sites/*.conf;\n    include /etc/nginx/conf.d/*.conf;\n}\n",
		"sites/a.conf":   "server {\n    listen 80;\n    location /api/ {\n        proxy_pass https://api_pool;\n    }\n}\n",
		"conf.d/up.conf": "upstream api_pool {\n    server api.example.test:443;\n}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := LoadTree(TreeOptions{HostDir: dir, Main: "nginx.conf"})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range tr.Files {
		files = append(files, f.Name+"="+f.Container)
	}
	if want := []string{"nginx.conf=/etc/nginx/nginx.conf", "sites/a.conf=/etc/nginx/sites/a.conf", "conf.d/up.conf=/etc/nginx/conf.d/up.conf"}; !slices.Equal(files, want) {
		t.Errorf("files %q\nwant  %q", files, want)
	}
	var incs []string
	for _, inc := range tr.Includes {
		incs = append(incs, fmt.Sprintf("%s followed=%v %v", inc.Pattern, inc.Followed, inc.Files))
	}
	want := []string{
		"/etc/nginx/modules-enabled/*.conf followed=false []",
		"/etc/nginx/mime.types followed=false []",
		"/usr/share/nginx/extra.conf followed=false []",
		"/etc/nginx/sites/*.conf followed=true [sites/a.conf]",
		"/etc/nginx/conf.d/*.conf followed=true [conf.d/up.conf]",
	}
	if !slices.Equal(incs, want) {
		t.Errorf("includes:\n  %s\nwant:\n  %s", strings.Join(incs, "\n  "), strings.Join(want, "\n  "))
	}
	passes := tr.TLSPasses()
	if len(passes) != 1 || passes[0].Upstream == nil || passes[0].Upstream.Pos() != "conf.d/up.conf:3" {
		t.Fatalf("passes %+v, want one naming the upstream block of conf.d/up.conf", passes)
	}
	loc := passes[0].Node.Enclosing("location")
	if loc == nil || loc.Open != 3 || loc.Line != 5 {
		t.Errorf("location %+v, want it open on line 3 and closed on line 5", loc)
	}
	if name, sent, known := passes[0].SNI(); sent || !known || name != "" {
		t.Errorf("SNI() = %q %v %v, want none sent (proxy_ssl_server_name is off)", name, sent, known)
	}
	if len(tr.Findings) != 1 || tr.Findings[0].Rule != "SNI001" || tr.Findings[0].File != "sites/a.conf" || tr.Findings[0].Line != 4 {
		t.Errorf("findings %v, want SNI001 at sites/a.conf:4", tr.Findings)
	}
}

// TestLoadTreeMainContent: a main file given as content, and its errors
// named by the tree's file names.
func TestLoadTreeMainContent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "self.conf"), []byte("include /etc/nginx/self.conf;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadTree(TreeOptions{HostDir: dir, Main: "main.conf", MainContent: []byte("events {}\ninclude self.conf;\n")})
	if err == nil || err.Error() != "self.conf:1: include /etc/nginx/self.conf: includes itself through self.conf" {
		t.Errorf("cycle: %v", err)
	}
	_, err = LoadTree(TreeOptions{HostDir: dir, Main: "main.conf", MainContent: []byte("events {\n")})
	if err == nil || !strings.HasPrefix(err.Error(), "main.conf:1: ") {
		t.Errorf("unclosed block: %v", err)
	}
}
