package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// nghttpxCaseConf is a case's own nghttpx configuration, as the rendered
// script of the proxies suite writes it (the heredoc of case N).
func nghttpxCaseConf(script string) (string, error) {
	_, rest, ok := strings.Cut(script, "<<'CASE'\n")
	conf, _, ok2 := strings.Cut(rest, "\nCASE\n")
	if !ok || !ok2 {
		return "", fmt.Errorf("no case configuration in the rendered script:\n%s", script)
	}
	return conf + "\n", nil
}

// TestNghttpxCasesAgree lints every case of nghttpx's table, its own
// process's configuration as the proxies suite renders it, and holds lint
// to the case's lint field or to what the real proxy did: no SNI seen
// wants NGH001, a name sent and 200 wants no error.
func TestNghttpxCasesAgree(t *testing.T) {
	_, rendered := standalone(t, "nghttpx")
	lintEveryCase(t, "nghttpx", ".conf", func(c fixtures.Case) ([]byte, error) {
		conf, err := nghttpxCaseConf(rendered[c.ID])
		return []byte(conf), err
	}, func(e fixtures.Expect, rules []string) string {
		switch {
		case e.SNI != nil && *e.SNI == "" && !slices.Contains(rules, "NGH001"):
			return "the backend sees no SNI: want NGH001"
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "nghttpx sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "")
}

// TestParseNghttpx: options, frontends, backends with their patterns and
// parameters, includes read from the folder, findings at their lines, and
// errors with the file and line.
func TestParseNghttpx(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "nghttpx.conf")
	conf := `# nghttpx
frontend=*,8080;no-tls
frontend=0.0.0.0,8443
backend=shop.internal.example,443;shop.example.com/;tls
backend=10.0.0.5,8443;/api/:api.example.com/;tls;proto=h2
include=/etc/nghttpx/backends.conf
include=/srv/elsewhere.conf
insecure=yes
`
	if err := os.WriteFile(main, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "backends.conf"), []byte("backend=10.0.0.6,443;;tls;sni=pay.internal.example\nbackend=127.0.0.1,80;/plain/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseNghttpxFile(main)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Frontends {
		got = append(got, fmt.Sprintf("front %s,%d tls=%v", f.Host, f.Port, f.TLS))
	}
	for _, b := range c.Backends {
		got = append(got, fmt.Sprintf("%s:%d %s,%d %q tls=%v sni=%s name=%s", filepath.Base(b.File), b.Line, b.Host, b.Port, b.Patterns, b.TLS, b.SNI, b.Name()))
	}
	want := []string{"front *,8080 tls=false", "front 0.0.0.0,8443 tls=true",
		`nghttpx.conf:4 shop.internal.example,443 ["shop.example.com/"] tls=true sni= name=shop.internal.example`,
		`nghttpx.conf:5 10.0.0.5,8443 ["/api/" "api.example.com/"] tls=true sni= name=`,
		`backends.conf:1 10.0.0.6,443 [""] tls=true sni=pay.internal.example name=pay.internal.example`,
		`backends.conf:2 127.0.0.1,80 ["/plain/"] tls=false sni= name=`}
	if !slices.Equal(got, want) {
		t.Errorf("parsed\n%q\nwant\n%q", got, want)
	}
	if !slices.Equal(c.Paths, []string{"/etc/nghttpx/nghttpx.conf", "/etc/nghttpx/backends.conf"}) {
		t.Errorf("paths %q", c.Paths)
	}
	if len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "include=/srv/elsewhere.conf is not read") {
		t.Errorf("notes %q", c.Notes)
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s@%s:%d", f.Rule, filepath.Base(f.File), f.Line))
	}
	if want := []string{"NGH001@nghttpx.conf:5", "NGH003@nghttpx.conf:8"}; !slices.Equal(rules, want) {
		t.Errorf("findings %q, want %q", rules, want)
	}
	if fix := NghttpxFix(c.Backends[1], "api.internal.example"); fix != "backend=10.0.0.5,8443;/api/:api.example.com/;tls;proto=h2;sni=api.internal.example" {
		t.Errorf("fix %s", fix)
	}
	if fix := NghttpxFix(NgBackend{NgOption: NgOption{Value: "10.0.0.5,443"}}, "a.example"); fix != "backend=10.0.0.5,443;;sni=a.example" {
		t.Errorf("fix %s", fix)
	}
	for _, tc := range []struct{ conf, msg string }{
		{"frontend=*,8080;no-tls\nbackend=shop.internal.example;;tls\n", "x.conf:2: backend=shop.internal.example;;tls: address"},
		{"frontend=*,8080;no-tls\nno equals sign\n", "x.conf:2: "},
		{"frontend=*,99999\n", "x.conf:1: frontend=*,99999: address"},
	} {
		_, err := ParseNghttpx("x.conf", []byte(tc.conf))
		if err == nil || !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want %s...", tc.conf, err, tc.msg)
		}
	}
	if !LooksLikeNghttpx([]byte(conf)) || LooksLikeNghttpx([]byte("global\n  daemon\n")) || LooksLikeNghttpx([]byte("server {\n}\n")) {
		t.Error("LooksLikeNghttpx")
	}
}

// FuzzParseNghttpx: no input makes the parser panic, and an error names
// the file.
func FuzzParseNghttpx(f *testing.F) {
	f.Add([]byte("frontend=*,8080;no-tls\nbackend=10.0.0.5,443;a.example/:/b/;tls;sni=x\ninsecure=yes\nhost-rewrite=yes\n"))
	f.Add([]byte("backend=unix:/run/a.sock;;tls\ninclude=x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseNghttpx("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		c.Findings()
		for _, b := range c.Backends {
			NghttpxFix(b, "a.example")
		}
	})
}
