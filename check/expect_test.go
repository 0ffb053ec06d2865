package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadExpectationsSample: the sample's expectations load, with their
// lines and defaults.
func TestLoadExpectationsSample(t *testing.T) {
	es, err := LoadExpectations("../fixtures/check/expect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 8 {
		t.Fatalf("%d entries, want 8", len(es))
	}
	first := es[0]
	if first.Source != "../fixtures/check/expect.yaml:6" || first.Request.Path != "/" || first.Request.Method != "GET" ||
		*first.Expect.Status != 200 || *first.Expect.SNI != "www.shop-cdn.example" {
		t.Errorf("first entry %+v", first)
	}
	if last := es[len(es)-1]; last.Request.Scheme != "tcp" || *last.Expect.SNI != "" || *last.Expect.Status != 0 {
		t.Errorf("last entry %+v, want tcp with SNI none and status 0", last)
	}
}

// TestLoadExpectationsErrors: every bad file is one sentence with the file
// and line.
func TestLoadExpectationsErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no sni", "- request: {host: a.example}\n  expect: {status: 200}\n", "x.yaml:1: expect.sni is required"},
		{"no status", "- request: {host: a.example}\n  expect: {sni: a}\n", "x.yaml:1: expect.status is required"},
		{"no host", "- request: {path: /}\n  expect: {status: 200, sni: a}\n", "x.yaml:1: request.host is required"},
		{"bad scheme", "- request: {host: a, scheme: ftp}\n  expect: {status: 200, sni: a}\n", `x.yaml:1: request.scheme must be http, https or tcp, got "ftp"`},
		{"bad path", "- request: {host: a, path: api}\n  expect: {status: 200, sni: a}\n", `x.yaml:1: request.path must start with /`},
		{"tcp port", "- request: {scheme: tcp}\n  expect: {status: 0, sni: \"\"}\n", "x.yaml:1: request.port is required for scheme tcp"},
		{"bad cause", "- request: {host: a}\n  expect: {status: 502, sni: \"\", cause: broken}\n", `x.yaml:1: expect.cause must be one of`},
		{"host header", "- request: {host: a, headers: {Host: b}}\n  expect: {status: 200, sni: a}\n", "x.yaml:1: request.headers: the Host is request.host"},
		{"bad header", "- request: {host: a, headers: {\"X A\": b}}\n  expect: {status: 200, sni: a}\n", `x.yaml:1: request.headers: "X A"`},
		{"tcp headers", "- request: {scheme: tcp, port: 5432, headers: {X-A: b}}\n  expect: {status: 0, sni: \"\"}\n", "x.yaml:1: request.headers are for HTTP requests"},
		{"unknown field", "- request: {host: a}\n  expect: {status: 200, sni: a, snl: b}\n", "x.yaml:2: field snl not found"},
		{"second entry", "- request: {host: a}\n  expect: {status: 200, sni: a}\n- request: {host: b}\n  expect: {sni: b}\n", "x.yaml:3: expect.status is required"},
		{"not a list", "request: {host: a}\n", "x.yaml:1: want a list"},
		{"empty", "[]\n", "no entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "x.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadExpectations(file)
			if err == nil {
				t.Fatal("no error")
			}
			if _, ok := err.(*UsageError); !ok {
				t.Errorf("error %T, want *UsageError", err)
			}
			msg := strings.ReplaceAll(err.Error(), file, "x.yaml")
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line with %q", msg, tc.want)
			}
		})
	}
	if _, err := LoadExpectations(filepath.Join(t.TempDir(), "absent.yaml")); err == nil || !strings.Contains(err.Error(), "cannot read the expectations file") {
		t.Errorf("absent file: %v", err)
	}
}

// TestRequestString: headers show in a request's text, sorted, so two
// requests of one URL differing by a header are two locations.
func TestRequestString(t *testing.T) {
	r := Request{Scheme: "http", Host: "shop.example.com", Port: 8080, Path: "/t/", Method: "GET", Headers: map[string]string{"X-Tenant": "beta", "Accept": "*/*"}}
	if got, want := r.String(), "GET http://shop.example.com:8080/t/ (Accept: */*, X-Tenant: beta)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	r = Request{Scheme: "http", Host: "www.b.example:8443", Port: 8443, Path: "/", Method: "GET"}
	if got, want := r.String(), "GET http://www.b.example:8443/"; got != want {
		t.Errorf("a Host with its port: String() = %q, want %q", got, want)
	}
}
