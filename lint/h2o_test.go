package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// TestH2OCasesAgree lints every case of h2o's table, as the proxies suite
// renders it alone, and holds lint to the case's lint field or to what
// the real h2o did: an IP literal sent as SNI wants H2O001, a name sent
// and 200 wants no error.
func TestH2OCasesAgree(t *testing.T) {
	_, rendered := standalone(t, "h2o")
	lintEveryCase(t, "h2o", ".conf", func(c fixtures.Case) ([]byte, error) {
		return []byte(rendered[c.ID]), nil
	}, func(e fixtures.Expect, rules []string) string {
		switch {
		case e.SNI != nil && *e.SNI == "192.0.2.10" && !slices.Contains(rules, "H2O001"):
			return "h2o sends the IP literal as SNI: want H2O001"
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "h2o sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "")
}

// TestParseH2O: hosts and paths, inheritance across levels, listens,
// !file tags, the rules at their lines, and the errors with the file and
// line.
func TestParseH2O(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sites"), 0o755); err != nil {
		t.Fatal(err)
	}
	site := "proxy.preserve-host: ON\npaths:\n  /:\n    proxy.reverse.url: https://10.0.0.5:8443/app\n  /static:\n    file.dir: /var/www\n"
	if err := os.WriteFile(filepath.Join(dir, "sites", "b.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "h2o.conf")
	data := []byte(`# comment
listen: 80
listen:
  port: 443
  ssl:
    certificate-file: /etc/h2o/cert.pem
    key-file: /etc/h2o/key.pem
proxy.ssl.cafile: /etc/h2o/ca.pem
hosts:
  "a.example:443":
    listen:
      port: 8443
      host: 127.0.0.1
    paths:
      /api/:
        proxy.reverse.url: https://api.internal/
        proxy.ssl.verify-peer: OFF
      /plain/:
        proxy.reverse.url: http://plain.internal/
  b.example: !file /etc/h2o/sites/b.conf
  "c.example":
    proxy.ssl.cafile: /etc/h2o/other.pem
    paths:
      /: {proxy.reverse.url: "https://c.internal"}
`)
	if err := os.WriteFile(main, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseH2OFile(main)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TLSPaths() {
		u, _ := p.Upstream()
		ca, _ := p.Get("proxy.ssl.cafile")
		got = append(got, fmt.Sprintf("%s %s:%d %s:%d%s ca=%s", p.Location(), filepath.Base(p.File), p.Line, u.Host, u.Port, u.Rest, ca.Value))
	}
	want := []string{
		"host a.example:443 path /api/ h2o.conf:15 api.internal:443/ ca=/etc/h2o/ca.pem",
		"host b.example path / b.conf:3 10.0.0.5:8443/app ca=/etc/h2o/ca.pem",
		"host c.example path / h2o.conf:24 c.internal:443 ca=/etc/h2o/other.pem",
	}
	if !slices.Equal(got, want) {
		t.Errorf("https paths\n%q\nwant\n%q", got, want)
	}
	if len(c.Listens) != 2 || c.Listens[0].Port != 80 || c.Listens[1].Port != 443 || !c.Listens[1].SSL || c.Listens[1].Key.Value != "/etc/h2o/key.pem" {
		t.Errorf("global listens %+v", c.Listens)
	}
	if h := c.Hosts[0]; h.Name != "a.example" || h.Port != 443 || len(h.Listens) != 1 || h.Listens[0].Host != "127.0.0.1" || h.Listens[0].Port != 8443 {
		t.Errorf("host a.example:443: %+v", h)
	}
	if n := len(c.Files); n != 2 || c.Files[1].Container != "/etc/h2o/sites/b.conf" {
		t.Errorf("files %+v, want the main file and sites/b.conf", c.Files)
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s %s:%d %s", f.Rule, filepath.Base(f.File), f.Line, f.Fix))
	}
	wantRules := []string{
		"H2O004 h2o.conf:17 proxy.ssl.verify-peer: ON, proxy.ssl.cafile: <the CA bundle that issued the upstream's certificate>",
		"H2O001 b.conf:4 proxy.reverse.url: https://<the upstream's host name>:8443/app",
		"H2O003 b.conf:1 proxy.preserve-host: OFF",
	}
	if !slices.Equal(rules, wantRules) {
		t.Errorf("findings\n%q\nwant\n%q", rules, wantRules)
	}
	noCA, err := ParseH2O("n.conf", "/etc/h2o/n.conf", []byte("hosts:\n  x:\n    paths:\n      /:\n        proxy.reverse.url: https://x.internal/\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if fs := noCA.Findings(); len(fs) != 1 || fs[0].Rule != "H2O002" || fs[0].Line != 5 {
		t.Errorf("no cafile: findings %+v, want H2O002 at line 5", fs)
	}
	for _, tc := range []struct {
		data string
		line int
	}{
		{"hosts:\n  a:\n    paths: [/]\n", 3},
		{"hosts:\n  a:\n    paths:\n      /: !file x.conf\n", 4},
		{"hosts:\n  \"a:port\":\n    paths: {}\n", 2},
		{"hosts:\n  a:\n   paths:\n  - x\n", 4},
		{"listen: [[1]]\nhosts: {}\n", 1},
		{"hosts:\n  a:\n    paths:\n      /: {proxy.reverse.url: https://a/}\n      /b: c: d\n", 5},
	} {
		_, err := ParseH2O("h.conf", "/etc/h2o/h.conf", []byte(tc.data), nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.File != "h.conf" || ce.Line != tc.line {
			t.Errorf("%q: error %v, want a ConfigError at h.conf:%d", tc.data, err, tc.line)
		}
	}
	if _, err := ParseH2OFile(filepath.Join(dir, "missing.conf")); err == nil {
		t.Error("a missing file parses")
	}
	if !LooksLikeH2O(data) || LooksLikeH2O([]byte("http {\n  server {}\n}\n")) || LooksLikeH2O([]byte("hosts: {}\n")) {
		t.Error("LooksLikeH2O tells h2o from other files wrongly")
	}
}

// FuzzParseH2O: any bytes parse or fail with a ConfigError naming a line
// of the input, never panic; what parses has its paths' and findings'
// lines in range.
func FuzzParseH2O(f *testing.F) {
	for _, file := range []string{"../fixtures/check/h2o/h2o.conf", "../fixtures/check/h2o/sites/shop.conf"} {
		sample, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sample)
	}
	f.Add([]byte("hosts:\n  \"[::1]:8443\": &h\n    paths:\n      /: {proxy.reverse.url: \"https://[::1]:9/x?y\", proxy.preserve-host: ON}\n  b: *h\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		LooksLikeH2O(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		c, err := ParseH2O("h.conf", "/etc/h2o/h.conf", data, nil)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != "h.conf" || ce.Line < 1 || ce.Line > lines {
				t.Fatalf("error %v is not a ConfigError within the %d lines", err, lines)
			}
			return
		}
		for _, p := range c.Paths() {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("%s at line %d of %d", p.Location(), p.Line, lines)
			}
		}
		for _, fd := range c.Findings() {
			if fd.Line < 1 || fd.Line > lines {
				t.Fatalf("finding %s at line %d of %d", fd.Rule, fd.Line, lines)
			}
		}
	})
}
