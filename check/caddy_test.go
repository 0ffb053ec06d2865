package check

import (
	"os"
	"slices"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// caddySample is the adapter of fixtures/check/caddy/Caddyfile, planned,
// with the routes of the JSON caddy adapt made of it
// (lint/testdata/caddy/sample.json).
func caddySample(t *testing.T) (*caddyAdapter, *runner) {
	t.Helper()
	data, err := os.ReadFile("../fixtures/check/caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("../lint/testdata/caddy/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := lint.ParseCaddy("Caddyfile", data)
	if err != nil {
		t.Fatal(err)
	}
	adapted, err := lint.ParseCaddyJSON("Caddyfile", js)
	if err != nil {
		t.Fatal(err)
	}
	a := &caddyAdapter{data: data, parsed: parsed}
	r := &runner{rep: &Report{}, skipIP: map[string]string{"10.61.7.12": "it clashes"}}
	a.plan(r)
	a.routes(adapted)
	return a, r
}

// TestCaddyJobs: one request per TLS route of caddy adapt's JSON, in its
// order, with the Caddyfile's line, the route's first host (a wildcard's
// www), its path matcher's prefix and its site's scheme and port (HTTPS
// for a host name without http://); an IP the backend cannot take is
// not checked; an expectations entry goes to the route Caddy picks.
func TestCaddyJobs(t *testing.T) {
	a, r := caddySample(t)
	if got, want := a.ports(r), []int{80, 8080, 443}; !slices.Equal(got, want) {
		t.Errorf("ports %v, want %v", got, want)
	}
	var got []string
	for _, j := range a.jobs(r, nil) {
		got = append(got, j.loc.Location+" "+j.loc.At+" "+j.loc.Request.String()+" "+j.loc.NotChecked)
	}
	want := []string{
		"route partners.example.com:443 * Caddyfile:73 GET https://partners.example.com/ ",
		"route admin.example.com:80 * Caddyfile:44 GET http://admin.example.com/ ",
		"route shop.example.com:80 /search/* Caddyfile:27 GET http://shop.example.com/search/ the upstream 10.61.7.12:9443 cannot be impersonated: it clashes",
		"route shop.example.com:80 /api/* Caddyfile:23 GET http://shop.example.com/api/ ",
		"route shop.example.com:80 * Caddyfile:36 GET http://shop.example.com/ ",
		"route *.tenants.example.com:80 * Caddyfile:54 GET http://www.tenants.example.com/ ",
		"route status.example.com:8080 * Caddyfile:62 GET http://status.example.com:8080/ ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	jobs := a.jobs(r, []Entry{{Request: Request{Host: "shop.example.com", Port: 80, Path: "/api/v2/orders", Method: "GET"}}, {Request: Request{Host: "nobody.example", Port: 80, Path: "/", Method: "GET"}},
		{Request: Request{Host: "acme.tenants.example.com", Path: "/", Method: "GET"}}, {Request: Request{Host: "partners.example.com", Path: "/x", Method: "GET"}}})
	got = nil
	for _, j := range jobs[:4] {
		got = append(got, j.loc.Location+" "+j.loc.Request.String())
		if j.loc.Location != "no route" && j.port != j.loc.Request.Port {
			t.Errorf("%s: port %d, request's %d", j.loc.Location, j.port, j.loc.Request.Port)
		}
	}
	want = []string{"route shop.example.com:80 /api/* GET http://shop.example.com/api/v2/orders", "no route GET http://nobody.example/",
		"route *.tenants.example.com:80 * GET http://acme.tenants.example.com/", "route partners.example.com:443 * GET https://partners.example.com/x"}
	if !slices.Equal(got, want) || len(jobs) != 4+4 {
		t.Errorf("entry jobs\n%q\nwant\n%q\nand 4 not requested (got %d in all)", got, want, len(jobs))
	}
}

// TestCaddyDiagnose: the cause and Caddy's own fix line, in the
// Caddyfile or the JSON.
func TestCaddyDiagnose(t *testing.T) {
	a, _ := caddySample(t)
	ip, tenants := a.adapted[3], a.adapted[5]
	empty, other := "", "www.tenants.example.com"
	noSNI := &harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonMissingSNI, SNI: &empty, Status: 502}
	d := diagnoseCaddy(ip, noSNI, "2.6.2", false)
	if d.Cause != CauseNoSNI || d.Fix != "tls_server_name <the upstream's host name> (inside transport http { })" {
		t.Errorf("no SNI: %+v", d)
	}
	if d := diagnoseCaddy(ip, noSNI, "2.6.2", true); d.Fix != `"transport": {"protocol": "http", "tls": {"server_name": "<the upstream's host name>"}}` {
		t.Errorf("no SNI, JSON: fix %q", d.Fix)
	}
	wrong := &harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonUnknownSNI, SNI: &other, Status: 502}
	if d := diagnoseCaddy(tenants, wrong, "2.6.2", false); d.Cause != CauseWrongName || d.Fix != "tls_server_name tenants.internal.example (inside transport http { })" {
		t.Errorf("wrong name: %+v", d)
	}
	name := "tenants.internal.example"
	misdirected := &harness.Observation{Backend: fixtures.BackendServed, SNI: &name, Status: 421}
	if d := diagnoseCaddy(tenants, misdirected, "2.6.2", false); d.Cause != CauseBadResponse || d.Fix != "header_up Host {upstream_hostport}" {
		t.Errorf("421: %+v", d)
	}
	failed := &harness.Observation{Backend: fixtures.BackendFailed, Reason: "bad certificate", SNI: &name, Status: 502}
	if d := diagnoseCaddy(tenants, failed, "2.11.4", false); d.Cause != CauseVerify || d.Fix != lint.CaddyTrustFix(false, "2.11.4") {
		t.Errorf("verify: %+v", d)
	}
	if served := (&harness.Observation{Backend: fixtures.BackendServed, SNI: &name, Status: 200}); !diagnoseCaddy(tenants, served, "2.6.2", false).Works {
		t.Error("200: want works")
	}
}
