package check

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// TestNghttpxRoutes: the sample's patterns of tls backends, with their
// targets (an include's backend among them), the request made up for
// each, and the route nghttpx gives a request.
func TestNghttpxRoutes(t *testing.T) {
	cfg, err := lint.ParseNghttpxFile("../fixtures/check/nghttpx/nghttpx.conf")
	if err != nil {
		t.Fatal(err)
	}
	a := &nghttpxAdapter{cfg: cfg, dir: "../fixtures/check/nghttpx", file: "../fixtures/check/nghttpx/nghttpx.conf"}
	r := &runner{rep: &Report{}, skipIP: map[string]string{"10.47.3.30": "it clashes"}}
	a.plan(r)
	var got []string
	for _, j := range a.jobs(r, nil) {
		got = append(got, fmt.Sprintf("%s %s %v %s", j.loc.Location, j.loc.At, j.targets, j.loc.Request))
		if j.loc.Location == "backend admin.example.com/" && j.loc.Outcome != NotChecked {
			t.Errorf("%s: an upstream the backend cannot take is not checked", j.loc.Location)
		}
	}
	want := []string{
		"backend shop.example.com/ nghttpx.conf:16 [www.shop-cdn.example:443] GET http://shop.example.com/",
		"backend shop.example.com/api/ nghttpx.conf:20 [10.47.3.11:8443 10.47.3.12:8443] GET http://shop.example.com/api/",
		"backend admin.example.com/ nghttpx.conf:24 [10.47.3.30:9443] GET http://admin.example.com/",
		"backend *.tenants.example.com/ nghttpx.conf:27 [10.47.3.40:443] GET http://www.tenants.example.com/",
		"backend /billing/ conf.d/billing.conf:2 [billing.internal.example:443] GET http://localhost/billing/",
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	if !slices.Contains(r.up.Names, "admin.internal.example") {
		t.Errorf("names %q: the sni= name is served", r.up.Names)
	}
	for _, tc := range []struct{ host, path, want string }{
		{"shop.example.com", "/api/v1", "shop.example.com/api/"},
		{"SHOP.example.com:80", "/cart", "shop.example.com/"},
		{"a.tenants.example.com", "/", "*.tenants.example.com/"},
		{"admin.example.com", "/billing/x", "admin.example.com/"},
		{"other.example", "/billing/x", "/billing/"},
		{"other.example", "/", ""},
	} {
		rt := a.route(tc.host, tc.path)
		if got := ""; rt != nil {
			got = rt.pattern
			if got != tc.want {
				t.Errorf("route(%s, %s) = %q, want %q", tc.host, tc.path, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("route(%s, %s) = none, want %q", tc.host, tc.path, tc.want)
		}
	}
	if port, scheme := a.frontend(); port != 80 || scheme != "http" {
		t.Errorf("frontend %d %s, want 80 http", port, scheme)
	}
	if p, err := ProxyKind("", "../fixtures/check/nghttpx"); err != nil || p != ProxyNghttpx {
		t.Errorf("ProxyKind of the sample's folder: %s %v", p, err)
	}
}

// TestNghttpxReject: nghttpx's refusals point at the operator's line,
// whether its message names the line or only the option and the word.
func TestNghttpxReject(t *testing.T) {
	cfg, err := lint.ParseNghttpxFile("../fixtures/check/nghttpx/nghttpx.conf")
	if err != nil {
		t.Fatal(err)
	}
	a := &nghttpxAdapter{cfg: cfg, dir: "../fixtures/check/nghttpx", file: "../fixtures/check/nghttpx/nghttpx.conf"}
	for _, tc := range []struct{ out, at string }{
		{"ERROR (shrpx_config.cc:4248) Bad configuration format in /etc/nghttpx/conf.d/billing.conf at line 2", "conf.d/billing.conf:2"},
		{"ERROR (shrpx_config.cc:1156) backend: 10.47.3.30: unknown keyword", "nghttpx.conf:24"},
		{"FATAL (shrpx.cc:3668) Failed to load configuration", ""},
	} {
		r := &runner{rep: &Report{}}
		a.reject(r, 1, tc.out)
		if r.rep.Rejected.At != tc.at {
			t.Errorf("%q: at %q, want %q", tc.out, r.rep.Rejected.At, tc.at)
		}
	}
}

// TestNghttpxUnreachable: a configuration whose frontends listen on
// loopback only (Debian's default) has its backends not checked, with
// the frontends named.
func TestNghttpxUnreachable(t *testing.T) {
	cfg, err := lint.ParseNghttpx("nghttpx.conf", []byte("frontend=127.0.0.1,3000;no-tls\nbackend=api.internal.example,443;;tls\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := &nghttpxAdapter{cfg: cfg, dir: ".", file: "nghttpx.conf"}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	a.plan(r)
	js := a.jobs(r, nil)
	if len(js) != 1 || js[0].loc.Outcome != NotChecked || !strings.Contains(js[0].loc.NotChecked, "frontend=127.0.0.1,3000;no-tls") {
		t.Errorf("jobs %+v", js)
	}
	if ports := a.ports(r); len(ports) != 0 {
		t.Errorf("ports %v, want none published", ports)
	}
}

// TestNghttpxGroupFix: the fix of a pattern's group names every backend
// line without SNI, as nghttpx balances requests between them.
func TestNghttpxGroupFix(t *testing.T) {
	cfg, err := lint.ParseNghttpxFile("../fixtures/check/nghttpx/nghttpx.conf")
	if err != nil {
		t.Fatal(err)
	}
	a := &nghttpxAdapter{cfg: cfg, dir: "../fixtures/check/nghttpx", file: "../fixtures/check/nghttpx/nghttpx.conf"}
	a.plan(&runner{rep: &Report{}})
	rt := a.route("shop.example.com", "/api/")
	d := diagnoseNghttpx(rt, false, false, &harness.Observation{Backend: "refused", Reason: "missing-sni", Status: 502})
	want := "backend=10.47.3.11,8443;shop.example.com/api/;tls;sni=<the upstream's host name> and backend=10.47.3.12,8443;shop.example.com/api/;tls;sni=<the upstream's host name>"
	if d.Cause != CauseNoSNI || d.Fix != want {
		t.Errorf("diagnosis %+v\nwant fix %s", d, want)
	}
}
