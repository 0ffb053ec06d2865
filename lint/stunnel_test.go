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

// TestStunnelCasesAgree lints every case of stunnel's table, as the
// proxies suite renders it alone, and holds lint to the case's lint field
// or to what the real stunnel did: no SNI seen, or a name the upstream
// refused, wants STN001 or STN002; a name sent and 200 wants no error.
func TestStunnelCasesAgree(t *testing.T) {
	_, rendered := standalone(t, "stunnel")
	lintEveryCase(t, "stunnel", ".conf", func(c fixtures.Case) ([]byte, error) {
		return []byte(rendered[c.ID]), nil
	}, func(e fixtures.Expect, rules []string) string {
		sniRule := slices.ContainsFunc(rules, func(r string) bool { return r == "STN001" || r == "STN002" })
		switch {
		case e.SNI != nil && *e.SNI == "" && e.Backend != fixtures.BackendUntouched && !sniRule:
			return "the backend sees no SNI: want STN002"
		case e.Reason == "unknown-sni" && !sniRule:
			return "the upstream refuses the name: want STN001 or STN002"
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "stunnel sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "")
}

// TestParseStunnel: sections, global defaults, includes, the rules and
// the errors with the file and line.
func TestParseStunnel(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf.d", "b.conf"), []byte("[b]\naccept = 9002\nconnect = 10.0.0.5:443\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "stunnel.conf")
	data := []byte("; comment\nclient = yes\nverifyChain = yes\nCAfile = /ca.pem\n[a]\naccept = 9001\nconnect = a.internal:443\ncheckHost = a.internal\ninclude = /etc/stunnel/conf.d\n[c]\nclient = no\naccept = 443\nconnect = 8080\n[d]\naccept = 9004\nconnect = d.internal:443\nsni =\nverifyChain = no\n")
	c, err := ParseStunnel(main, data, StunnelIncludes(main))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range c.TLSClients() {
		sni, ok := s.SNI()
		got = append(got, fmt.Sprintf("%s:%d %s %v", s.Name, s.Line, sni, ok))
	}
	if want := []string{"a:5 a.internal true", "b:1 10.0.0.5 true", "d:14  false"}; !slices.Equal(got, want) {
		t.Errorf("client services %q, want %q", got, want)
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s %s:%d", f.Rule, filepath.Base(f.File), f.Line))
	}
	if want := []string{"STN001 b.conf:3", "STN003 stunnel.conf:3", "STN002 stunnel.conf:17", "STN004 stunnel.conf:14"}; !slices.Equal(rules, want) {
		t.Errorf("findings %q, want %q", rules, want)
	}
	for _, tc := range []struct {
		data string
		line int
	}{{"[a]\nconnect\n", 2}, {"client = yes\n[]\n", 2}, {"[a\n", 1}} {
		_, err := ParseStunnel("s.conf", []byte(tc.data), nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.File != "s.conf" || ce.Line != tc.line {
			t.Errorf("%q: error %v, want a ConfigError at s.conf:%d", tc.data, err, tc.line)
		}
	}
}

// FuzzParseStunnel: any bytes parse or fail with a ConfigError naming a
// line of the input, never panic; what parses has its services' lines in
// range, and its rules run.
func FuzzParseStunnel(f *testing.F) {
	sample, err := os.ReadFile("../fixtures/check/stunnel/stunnel.conf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte("client = yes\n[a]\naccept = :::8443\nconnect = [::1]:443\nsni =\nverifyPeer = yes\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		LooksLikeStunnel(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		c, err := ParseStunnel("s.conf", data, nil)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != "s.conf" || ce.Line < 1 || ce.Line > lines {
				t.Fatalf("error %v is not a ConfigError within the %d lines", err, lines)
			}
			return
		}
		for _, s := range c.Services {
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("service %s at line %d of %d", s.Name, s.Line, lines)
			}
		}
		for _, fd := range c.Findings() {
			if fd.Line < 1 || fd.Line > lines {
				t.Fatalf("finding %s at line %d of %d", fd.Rule, fd.Line, lines)
			}
		}
	})
}
