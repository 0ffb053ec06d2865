package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run calls dispatch with args and returns the exit code and both outputs.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dispatch(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestDispatch pins the top level: no arguments is a usage error (64) that
// prints the usage, help is not (0), and an unknown command is a usage
// error naming it.
func TestDispatch(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{"no args", nil, 64, []string{"usage: sniproof COMMAND", "backend", "certs", "images", "conformance", "sweep"}},
		{"help", []string{"help"}, 0, []string{"usage: sniproof COMMAND"}},
		{"-h", []string{"-h"}, 0, []string{"usage: sniproof COMMAND"}},
		{"--help", []string{"--help"}, 0, []string{"usage: sniproof COMMAND"}},
		{"unknown", []string{"frobnicate", "--x"}, 64, []string{`unknown command "frobnicate"`, "usage: sniproof COMMAND"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// TestUsageListsEveryCommand pins that the usage names every command with
// its summary.
func TestUsageListsEveryCommand(t *testing.T) {
	var b bytes.Buffer
	usage(&b)
	for _, c := range commands {
		if !strings.Contains(b.String(), c.name) || !strings.Contains(b.String(), c.summary) {
			t.Errorf("usage lacks %s: %s", c.name, c.summary)
		}
	}
}

// TestFlagErrors pins the usage errors (64) that every command reports
// before it touches Docker, the network or the disk, and -h (0).
func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"certs no flags", []string{"certs"}, 64, "--out FOLDER and at least one --name NAME are required"},
		{"certs no name", []string{"certs", "--out", dir}, 64, "--out FOLDER and at least one --name NAME are required"},
		{"certs no out", []string{"certs", "--name", "x.test"}, 64, "--out FOLDER and at least one --name NAME are required"},
		{"certs 9 intermediates", []string{"certs", "--out", dir, "--name", "x.test", "--intermediates", "9"}, 64, "--intermediates must be 0-5, got 9"},
		{"certs -1 intermediates", []string{"certs", "--out", dir, "--name", "x.test", "--intermediates", "-1"}, 64, "got -1"},
		{"certs bad number", []string{"certs", "--out", dir, "--name", "x.test", "--intermediates", "two"}, 64, "invalid value"},
		{"certs unknown flag", []string{"certs", "--bogus"}, 64, "flag provided but not defined: -bogus"},
		{"certs extra argument", []string{"certs", "--out", dir, "--name", "x.test", "extra"}, 64, `unexpected argument "extra"`},
		{"certs -h", []string{"certs", "-h"}, 0, "-intermediates"},
		{"sweep neither", []string{"sweep"}, 64, "give exactly one of --session ID or --all"},
		{"sweep both", []string{"sweep", "--all", "--session", "abc"}, 64, "give exactly one of --session ID or --all"},
		{"sweep empty session", []string{"sweep", "--session", ""}, 64, "give exactly one"},
		{"sweep unknown flag", []string{"sweep", "--force"}, 64, "flag provided but not defined"},
		{"sweep -h", []string{"sweep", "-h"}, 0, "-session"},
		{"backend no config", []string{"backend"}, 64, "--config FILE is required"},
		{"backend missing file", []string{"backend", "--config", filepath.Join(dir, "nope.json")}, 64, "read config"},
		{"images extra argument", []string{"images", "now"}, 64, `unexpected argument "now"`},
		{"conformance unknown flag", []string{"conformance", "--bogus"}, 64, "flag provided but not defined"},
		{"conformance -h", []string{"conformance", "-h"}, 0, "-labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failing command wrote %d files into --out", len(entries))
	}
}

// TestBackendBadConfig pins that a config file that does not load is a
// usage error (64) whose message names the file and the line.
func TestBackendBadConfig(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // after the file name
	}{
		{"syntax", "{\n  \"control\": \":9000\",\n  \"listeners\": [}\n}\n", ":3:"},
		{"unknown field", "{\"control\": \":9000\", \"colour\": 1}", "unknown field"},
		{"invalid", "{\"control\": \":9000\", \"listeners\": []}", "listeners: at least one required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "backend.json")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := run(t, "backend", "--config", path)
			if code != 64 {
				t.Errorf("exit %d, want 64", code)
			}
			if !strings.Contains(stderr, "sniproof backend: "+path) || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to name %s and contain %q", stderr, path, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// TestCerts pins a real `sniproof certs` run under 0, 1 and 2
// intermediates: it writes ca.crt, server.crt (the chain) and server.key
// (0600) into a new folder; server.crt verifies against ca.crt for each
// name given and not for another; the key pairs with the certificate.
func TestCerts(t *testing.T) {
	for n := range 3 {
		t.Run(string(rune('0'+n)), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new", "certs")
			code, stdout, stderr := run(t, "certs", "--out", dir, "--name", "www.example.test", "--name", "127.0.0.1",
				"--intermediates", string(rune('0'+n)))
			if code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			for _, f := range []string{"ca.crt", "server.crt", "server.key"} {
				if !strings.Contains(stdout, filepath.Join(dir, f)) {
					t.Errorf("stdout %q does not name %s", stdout, f)
				}
			}

			roots := x509.NewCertPool()
			caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
			if err != nil {
				t.Fatal(err)
			}
			if !roots.AppendCertsFromPEM(caPEM) {
				t.Fatal("ca.crt holds no certificate")
			}
			chain := readCerts(t, filepath.Join(dir, "server.crt"))
			if len(chain) != 1+n {
				t.Fatalf("server.crt holds %d certificates, want %d", len(chain), 1+n)
			}
			inter := x509.NewCertPool()
			for _, c := range chain[1:] {
				inter.AddCert(c)
			}
			for _, name := range []string{"www.example.test", "127.0.0.1"} {
				if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name}); err != nil {
					t.Errorf("server.crt does not verify for %s: %v", name, err)
				}
			}
			_, err = chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "other.example.test"})
			var hostErr x509.HostnameError
			if !errors.As(err, &hostErr) {
				t.Errorf("verify for other.example.test = %v, want a HostnameError", err)
			}

			fi, err := os.Stat(filepath.Join(dir, "server.key"))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("server.key mode %v, want 0600", fi.Mode().Perm())
			}
			if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")); err != nil {
				t.Errorf("server.crt and server.key do not pair: %v", err)
			}
		})
	}
}

// TestCertsWriteError pins that a folder that cannot be created is a
// failure (1), not a usage error.
func TestCertsWriteError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "certs", "--out", filepath.Join(file, "sub"), "--name", "x.test")
	if code != 1 || !strings.Contains(stderr, "sniproof certs: create") {
		t.Errorf("exit %d, stderr %q; want 1 and a create error", code, stderr)
	}
}

// readCerts parses every certificate of a PEM file, in order.
func readCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return cs
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
}

// TestStringList pins the repeatable flag: every Set appends, String joins.
func TestStringList(t *testing.T) {
	var s stringList
	for _, v := range []string{"a.test", "b.test", "10.0.0.1"} {
		if err := s.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.String(); got != "a.test,b.test,10.0.0.1" {
		t.Errorf("String = %q", got)
	}
}
