package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/certs"
)

// TestProbeCLI pins probe's exit codes: 0 whatever the verdict, 3 for an
// unreachable host with one sentence naming host and port, 64 for usage.
func TestProbeCLI(t *testing.T) {
	ca, err := certs.NewCA("sniproof test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Leaf("www.xx.test")
	if err != nil {
		t.Fatal(err)
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := backend.New(&backend.Config{Control: "127.0.0.1:0", Listeners: []backend.Listener{
		{Name: "alert80", Addr: "127.0.0.1:0", Names: []string{"www.xx.test"}, CertPEM: string(leaf.ChainPEM()), KeyPEM: string(key)},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := srv.Addr("alert80").String()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	code, stdout, stderr := run(t, "probe", addr, "--name", "www.xx.test", "--ca", caFile, "--timeout", "2s")
	if code != 0 || !strings.Contains(stdout, "verdict  requires SNI: refuses a ClientHello without SNI with alert 80 internal_error") || stderr != "" {
		t.Errorf("probe: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, "probe", "--json", addr, "--name", "www.xx.test")
	var doc struct{ Verdict struct{ Kind string } }
	if err := json.Unmarshal([]byte(stdout), &doc); code != 0 || err != nil || doc.Verdict.Kind != "requires-sni" {
		t.Errorf("probe --json: exit %d, %v\n%s", code, err, stdout)
	}
	code, stdout, stderr = run(t, "probe", "127.0.0.1:"+strconv.Itoa(closed))
	if want := "sniproof probe: unreachable: 127.0.0.1 port " + strconv.Itoa(closed) + ": connection refused\n"; code != 3 || stderr != want || stdout != "" {
		t.Errorf("probe of a closed port: exit %d, stdout %q, stderr %q, want 3 and %q", code, stdout, stderr, want)
	}
	for _, args := range [][]string{
		{"probe"}, {"probe", "a", "b"}, {"probe", "host:99999"}, {"probe", "host", "--timeout", "0s"},
		{"probe", "host", "--ca", "/nonexistent"}, {"probe", "127.0.0.1", "--name", "10.0.0.1"},
	} {
		if code, _, stderr := run(t, args...); code != 64 || !strings.HasPrefix(stderr, "sniproof probe: ") {
			t.Errorf("%q: exit %d, stderr %q; want 64", args, code, stderr)
		}
	}
	if code, _, stderr := run(t, "probe", "-h"); code != 0 || !strings.Contains(stderr, "exit codes:") {
		t.Errorf("probe -h: exit %d\n%s", code, stderr)
	}
}

// TestLintCLI pins lint's exit codes: 0 clean, 1 findings, 64 usage or a
// configuration that cannot be read or parsed.
func TestLintCLI(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.conf")
	dirty := filepath.Join(dir, "dirty.conf")
	broken := filepath.Join(dir, "broken.conf")
	for file, text := range map[string]string{
		clean:  "http { server { location / { proxy_pass http://www.xx.test; } } }\n",
		dirty:  "http {\n    server {\n        location / {\n            proxy_pass https://www.xx.test;\n        }\n    }\n}\n",
		broken: "http {\n    server {\n",
	} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, stdout, stderr := run(t, "lint", clean); code != 0 || stdout != "" || stderr != "sniproof lint: no findings in 1 file\n" {
		t.Errorf("clean: exit %d, %q, %q", code, stdout, stderr)
	}
	code, stdout, _ := run(t, "lint", dirty)
	if code != 1 || !strings.HasPrefix(stdout, dirty+":4: SNI001 error: ") || !strings.Contains(stdout, "\n    fix: add `proxy_ssl_server_name on;`") {
		t.Errorf("dirty: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = run(t, "lint", dirty, "--format", "sarif")
	var log struct{ Runs []struct{ Results []any } }
	if err := json.NewDecoder(bytes.NewReader([]byte(stdout))).Decode(&log); code != 1 || err != nil || len(log.Runs[0].Results) != 1 {
		t.Errorf("dirty sarif: exit %d, %v\n%s", code, err, stdout)
	}
	if code, _, stderr := run(t, "lint", broken); code != 64 || stderr != "sniproof lint: "+broken+":2: unexpected end of file, expecting \"}\"\n" {
		t.Errorf("broken: exit %d, %q", code, stderr)
	}
	for _, args := range [][]string{{"lint"}, {"lint", "--format", "json", clean}, {"lint", filepath.Join(dir, "absent.conf")}} {
		if code, _, _ := run(t, args...); code != 64 {
			t.Errorf("%q: exit %d, want 64", args, code)
		}
	}
}

// TestLintDebianCopy pins that lint reads a copy of a Debian /etc/nginx
// whole without --conf-dir, saying on stderr that its folder stands for
// /etc/nginx and naming what the copy does not provide, as --conf-dir
// /etc/nginx reads it.
func TestLintDebianCopy(t *testing.T) {
	const main = "../../lint/testdata/debian/nginx.conf"
	code, stdout, stderr := run(t, "lint", main)
	if code != 1 || !strings.HasPrefix(stdout, "../../lint/testdata/debian/sites-enabled/shop:14: SNI001 error: ") ||
		!strings.HasPrefix(stderr, "sniproof lint: "+main+" is read as /etc/nginx/nginx.conf: its includes under /etc/nginx are read from its folder ../../lint/testdata/debian") ||
		!strings.Contains(stderr, "include /etc/letsencrypt/options-ssl-nginx.conf is not followed") ||
		!strings.HasSuffix(stderr, "sniproof lint: 1 finding (1 error, 0 warnings) in 5 files\n") {
		t.Errorf("lint of a Debian copy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, explicit, stderr := run(t, "lint", "--conf-dir", "/etc/nginx", main)
	if code != 1 || explicit != stdout || strings.Contains(stderr, "is read as") {
		t.Errorf("with --conf-dir /etc/nginx: exit %d\n%s\n%s", code, explicit, stderr)
	}
}
