package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOperatorToolsRedact runs lint in both formats and probe with a
// target holding a password on the samples with inline credentials
// (fixtures/check/secrets), through dispatch as the CLI runs them, and
// holds every byte they write on stdout and stderr free of the planted
// canaries. check's reports are held to the same in the check suite
// (suites/check/secrets_test.go), which runs the proxies.
func TestOperatorToolsRedact(t *testing.T) {
	canary := regexp.MustCompile(`CANARY[A-Za-z0-9_=-]*`)
	dir := filepath.Join("..", "..", "fixtures", "check", "secrets")
	planted := 0
	var runs [][]string
	for _, f := range []string{"nginx.conf", "haproxy.cfg"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		planted += len(canary.FindAll(data, -1))
		for _, format := range []string{"text", "sarif"} {
			runs = append(runs, []string{"lint", "--format", format, filepath.Join(dir, f)})
		}
	}
	if planted < 12 {
		t.Fatalf("the samples hold %d canaries, want at least 12", planted)
	}
	// A file lint cannot parse: its error quotes the line.
	bad := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(bad, []byte("http {\n  server {\n    proxy_set_header Authorization \"Bearer CANARY-parse\"\n  }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runs = append(runs, []string{"probe", "https://ops:CANARY-probe@127.0.0.1:1"}, []string{"probe", "--json", "ops:CANARY-probe@[::1]:1"},
		[]string{"lint", bad})
	for _, args := range runs {
		var out, errOut bytes.Buffer
		code := dispatch(args, &out, &errOut)
		all := out.String() + errOut.String()
		if all == "" {
			t.Errorf("sniproof %s wrote nothing", strings.Join(args, " "))
		}
		if leaked := canary.FindAllString(all, -1); len(leaked) > 0 {
			t.Errorf("sniproof %s (exit %d) wrote %q:\n%s", strings.Join(args, " "), code, leaked, all)
		}
	}
}
