package lint

import (
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
