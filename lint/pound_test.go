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

// TestPoundCasesAgree lints every case of pound's table, as the proxies
// suite renders it alone, and holds lint to each case's lint field, which
// every case has, or, were one without, to what the real pound did: no SNI
// seen wants POU001, a name sent and 200 no error.
func TestPoundCasesAgree(t *testing.T) {
	cases, rendered := standalone(t, "pound")
	for _, c := range cases {
		if c.Expect.Lint == nil {
			t.Errorf("%s:%d: %s has no lint field", c.File, c.Line, c.ID)
		}
	}
	lintEveryCase(t, "pound", ".cfg", func(c fixtures.Case) ([]byte, error) {
		return []byte(rendered[c.ID]), nil
	}, func(e fixtures.Expect, rules []string) string {
		switch {
		case e.SNI != nil && *e.SNI == "" && !slices.Contains(rules, "POU001"):
			return "the backend sees no SNI: want POU001"
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "pound sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "")
}

// TestParsePound: listeners, services, backends (named ones by
// UseBackend), Include, the rules, and errors with the file and line.
func TestParsePound(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.cfg"), []byte("Service \"api\"\n  Host \"api.example\"\n  Backend\n    Address 10.0.0.5\n    Port 443\n    HTTPS\n  End\nEnd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "pound.cfg")
	data := []byte(`# front
Backend "shared"
  Address shared.internal
  Port 443
  HTTPS
  ServerName "shared.internal"
End
ListenHTTP
  Address 0.0.0.0
  Port 8080
  Include "/etc/pound/api.cfg"
  Service "www"
    Match OR
      Host "www.example"
    End
    SetHeader "Host: other.example"
    UseBackend "shared"
  End
  Service "plain"
    Backend
      Address plain.internal
      Port 80
    End
  End
End
`)
	c, err := ParsePound(main, data, PoundIncludes(main))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range c.Services() {
		for _, b := range s.Backends {
			got = append(got, fmt.Sprintf("%s %s:%s %v %q", s.Arg(), b.Address, b.Port, b.HTTPS, b.ServerName))
		}
	}
	want := []string{`api 10.0.0.5:443 true ""`, `www shared.internal:443 true "shared.internal"`, `plain plain.internal:80 false ""`}
	if !slices.Equal(got, want) {
		t.Errorf("backends %q, want %q", got, want)
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s %s:%d", f.Rule, filepath.Base(f.File), f.Line))
	}
	if want := []string{"POU001 api.cfg:3", "POU002 api.cfg:6", "POU002 pound.cfg:5", "POU004 pound.cfg:16"}; !slices.Equal(rules, want) {
		t.Errorf("findings %q, want %q", rules, want)
	}
	for _, tc := range []struct {
		data string
		line int
	}{{"ListenHTTP\n  Port 80\n", 1}, {"End\n", 1}, {"ListenHTTP\n  Address \"0.0.0.0\nEnd\n", 2}} {
		_, err := ParsePound("p.cfg", []byte(tc.data), nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.File != "p.cfg" || ce.Line != tc.line {
			t.Errorf("%q: error %v, want a ConfigError at p.cfg:%d", tc.data, err, tc.line)
		}
	}
}

// FuzzParsePound: any bytes parse or fail with a ConfigError naming a
// line of the input, never panic; what parses has its rules run, each
// finding on a line of the input.
func FuzzParsePound(f *testing.F) {
	sample, err := os.ReadFile("../fixtures/check/pound/pound.cfg")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte("Backend \"b\"\n Address \"a\\\"b\"\n HTTPS\n ServerName 10.0.0.1\nEnd\nService\n UseBackend \"b\"\n SetHeader \"Host: x\"\nEnd\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		LooksLikePound(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		c, err := ParsePound("p.cfg", data, nil)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != "p.cfg" || ce.Line < 1 || ce.Line > lines {
				t.Fatalf("error %v is not a ConfigError within the %d lines", err, lines)
			}
			return
		}
		for _, fd := range c.Findings() {
			if fd.Line < 1 || fd.Line > lines {
				t.Fatalf("finding %s at line %d of %d", fd.Rule, fd.Line, lines)
			}
		}
	})
}
