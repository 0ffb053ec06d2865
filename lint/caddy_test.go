package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCaddyfileAsAdapted: the Caddyfile reader finds the routes caddy
// adapt makes of each testdata/caddy/NAME.Caddyfile, whose JSON,
// NAME.json, the real caddy adapt made (see testdata/caddy/README).
func TestCaddyfileAsAdapted(t *testing.T) {
	files, _ := filepath.Glob("testdata/caddy/*.Caddyfile")
	if len(files) == 0 {
		t.Fatal("no testdata/caddy/*.Caddyfile")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		js, err := os.ReadFile(strings.TrimSuffix(f, ".Caddyfile") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := ParseCaddyfile(f, data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		adapted, err := ParseCaddyJSON(f, js)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if diff := cmp.Diff(routeSet(adapted), routeSet(parsed)); diff != "" {
			t.Errorf("%s: the reader's routes differ from caddy adapt's (-adapt +reader):\n%s", f, diff)
		}
	}
}

// routeSet are a configuration's routes without their lines, sorted.
func routeSet(c *CaddyConfig) []CaddyRoute {
	var out []CaddyRoute
	for _, r := range c.Routes {
		r.Line = 0
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b CaddyRoute) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// TestParseCaddyErrors: bad input is one error naming the file and line
// and what was expected.
func TestParseCaddyErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"http://a.example {\n\treverse_proxy https://b.internal {\n\t\ttransport http {\n", "c:3: the block opened here has no closing }"},
		{"http://a.example {\n}\n}\n", "c:3: unexpected }: no block is open"},
		{"http://a.example {\n\treverse_proxy \"https://b.internal\n}\n", "c:2: unterminated quoted string"},
		{"http://a.example:http {\n}\n", "c:1: site address \"http://a.example:http\": the port is not a number"},
		{"http://a.example {\n\treverse_proxy https://b.internal:80\n}\n", "c:2: upstream https://b.internal:80: conflicting scheme (https://) and port (:80, the HTTP port)"},
		{"{\n  \"apps\": {\"http\": {\"servers\": {\"s\": {\"listen\": [\"eighty\"]}}}}\n}\n", "c:2: listen \"eighty\": want [host]:port"},
		{"{\"apps\": \n", "c:2: not Caddy's JSON: unexpected end of JSON input"},
	} {
		_, err := ParseCaddy("c", []byte(tc.text))
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseCaddy(%q): %v, want %s", tc.text, err, tc.want)
		}
	}
}

// TestCaddyfileOneSite: a Caddyfile of one site without braces is read as
// caddy reads it; named path matchers give the route's path.
func TestCaddyfileOneSite(t *testing.T) {
	c, err := ParseCaddyfile("c", []byte("http://a.example\n@api path /api/*\nreverse_proxy @api https://10.0.0.5 {\n\theader_up Host {host}\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routes) != 1 || c.Routes[0].Path != "/api/*" || c.Routes[0].Dials[0] != "10.0.0.5:443" || c.Routes[0].HostHeader != "{http.request.host}" || c.Routes[0].Line != 3 {
		t.Fatalf("routes %+v", c.Routes)
	}
	if f := c.Findings(); len(f) != 1 || f[0].Rule != "CAD001" {
		t.Errorf("findings %+v, want CAD001", f)
	}
}

// FuzzParseCaddy: no input makes either reader panic, and an error names
// the file.
func FuzzParseCaddy(f *testing.F) {
	for _, name := range []string{"sample.Caddyfile", "nested.Caddyfile", "nested.json"} {
		data, err := os.ReadFile(filepath.Join("testdata/caddy", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("(s) {\n\timport s\n}\nhttp://a {\n\timport s\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCaddy("f", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		c.Findings()
	})
}

// TestCaddyClaims: a Caddyfile, and Caddy's JSON, are Caddy's; the Go
// proxy's JSON and nginx are not.
func TestCaddyClaims(t *testing.T) {
	for text, want := range map[string]bool{
		"example.com {\n\treverse_proxy https://backend.internal\n}\n": true,
		"example.com {\n\tfile_server\n}\n":                            true,
		"{\n\t\"apps\": {\"http\": {}}\n}\n":                           true,
		"{\n\t\"routes\": []\n}\n":                                     false,
		"http {\n server {\n  proxy_pass https://a;\n }\n}\n":          false,
	} {
		if got := LooksLikeCaddy([]byte(text)); got != want {
			t.Errorf("LooksLikeCaddy(%q) = %v, want %v", text, got, want)
		}
	}
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte("example.com {\n\treverse_proxy https://10.0.0.5\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Files(file)
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Rule != "CAD001" {
		t.Errorf("Files(Caddyfile): %v, %+v; want one CAD001", err, res)
	}
}

// TestCaddyCerts: the certificate files a Caddyfile's sites (tls CERT
// KEY) and Caddy's JSON (apps.tls.certificates.load_files) load.
func TestCaddyCerts(t *testing.T) {
	c, err := ParseCaddyfile("c", []byte("(t) {\n\ttls /etc/caddy/a.pem /etc/caddy/a.key\n}\na.example, b.example {\n\timport t\n\treverse_proxy https://u.internal\n}\nhttp://c.example {\n\ttls internal\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certs) != 1 || c.Certs[0].Cert != "/etc/caddy/a.pem" || c.Certs[0].Key != "/etc/caddy/a.key" || !slices.Equal(c.Certs[0].Hosts, []string{"a.example", "b.example"}) || c.Certs[0].Line != 2 {
		t.Errorf("Caddyfile certs %+v", c.Certs)
	}
	j, err := ParseCaddyJSON("j", []byte(`{"apps": {"tls": {"certificates": {"load_files": [{"certificate": "/x.pem", "key": "/x.key"}]}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Certs) != 1 || j.Certs[0].Cert != "/x.pem" || j.Certs[0].Key != "/x.key" {
		t.Errorf("JSON certs %+v", j.Certs)
	}
}

// TestCaddyfileImports: file imports are followed, relative to the
// importing file and under /etc/caddy/ from the main file's folder, with
// each route's file; snippets take their arguments.
func TestCaddyfileImports(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"Caddyfile":          "(up) {\n\treverse_proxy https://{args[0]} {\n\t\ttransport http {\n\t\t\ttls_server_name {args.1}\n\t\t}\n\t}\n}\nimport sites/*.caddy\nimport /etc/caddy/extra/b.caddy\n",
		"sites/a.caddy":      "http://a.example {\n\timport up 10.0.0.5 a.internal\n}\nimport ../extra/none*\n",
		"extra/b.caddy":      "http://b.example {\n\treverse_proxy https://10.0.0.6\n}\n",
		"sites/ignored.conf": "not { caddy\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "Caddyfile")
	data, _ := os.ReadFile(main)
	c, err := ReadCaddy(main, data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Routes {
		file := r.File
		if file == "" {
			file = main
		}
		rel, _ := filepath.Rel(dir, file)
		got = append(got, fmt.Sprintf("%s:%d %s %s %q", rel, r.Line, r.Hosts, r.Dials, r.ServerName))
	}
	// The snippet's reverse_proxy is on the main file's line 2.
	want := []string{`Caddyfile:2 [a.example] [10.0.0.5:443] "a.internal"`, `extra/b.caddy:2 [b.example] [10.0.0.6:443] ""`}
	if !slices.Equal(got, want) {
		t.Errorf("routes %q, want %q", got, want)
	}
	var named []string
	for _, im := range c.Imports {
		named = append(named, im.Named)
	}
	if want := []string{"sites/a.caddy", "/etc/caddy/extra/b.caddy"}; !slices.Equal(named, want) {
		t.Errorf("imports %q, want %q", named, want)
	}
	if f := c.Findings(); len(f) != 1 || f[0].Rule != "CAD001" || f[0].File != filepath.Join(dir, "extra/b.caddy") {
		t.Errorf("findings %+v, want CAD001 in extra/b.caddy", f)
	}
}
