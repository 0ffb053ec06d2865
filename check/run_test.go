package check

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestDefaultRequests: without expectations, check sends one request per
// location that proxies to HTTPS, made up from the location and its
// server, and says why it sends none for the others.
func TestDefaultRequests(t *testing.T) {
	p := loadSample(t)
	a := &nginxAdapter{cfg: p.Config, p: p}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	var got []string
	for _, j := range a.jobs(r, nil) {
		if j.loc.Outcome == NotChecked {
			got = append(got, j.loc.Location+": not checked: "+j.loc.NotChecked)
			continue
		}
		got = append(got, j.loc.Location+": "+j.loc.Request.String())
	}
	want := []string{
		"location /: GET http://admin.example.com:8080/",
		"location /metrics/: GET http://admin.example.com:8080/metrics/",
		"location /reports/: GET http://admin.example.com:8080/reports/",
		"location /inventory.v1.Inventory/: GET https://grpc.example.com:8443/inventory.v1.Inventory/",
		"location /: GET https://shop.example.com/",
		"location /api/: GET https://shop.example.com/api/",
		"location /orders/: GET https://shop.example.com/orders/",
		"location /assets/: GET https://shop.example.com/assets/",
		"stream server :5432: tcp :5432",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestEntryRequests: expectations entries are matched to the location
// nginx would pick, their scheme and port filled in from the listen
// directives, and TLS locations no entry requests are listed as not
// checked.
func TestEntryRequests(t *testing.T) {
	p := loadSample(t)
	es, err := LoadExpectations("../fixtures/check/expect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := &nginxAdapter{cfg: p.Config, p: p}
	r := &runner{rep: &Report{}, skipIP: map[string]string{"10.20.0.30": "it clashes"}}
	var got []string
	for _, j := range a.jobs(r, es) {
		line := j.loc.Location + " " + j.loc.At
		if j.loc.Request != nil {
			line += " " + j.loc.Request.String()
		}
		if j.loc.Outcome == NotChecked {
			line += ": not checked: " + j.loc.NotChecked
		}
		got = append(got, line)
	}
	want := []string{
		"location / sites-enabled/shop.conf:16 GET https://shop.example.com/",
		"location /api/ sites-enabled/shop.conf:21 GET https://shop.example.com/api/v1/cart",
		"location /orders/ sites-enabled/shop.conf:25 GET https://www.shop.example.com/orders/42",
		"location / sites-enabled/admin.conf:6 GET http://admin.example.com:8080/",
		"location /metrics/ sites-enabled/admin.conf:12 GET http://admin.example.com:8080/metrics/: not checked: the upstream 10.20.0.30:9443 cannot be impersonated: it clashes",
		"location /reports/ sites-enabled/admin.conf:16 GET http://admin.example.com:8080/reports/daily",
		"location /inventory.v1.Inventory/ sites-enabled/grpc.conf:8 POST https://grpc.example.com:8443/inventory.v1.Inventory/Get",
		"stream server :5432 nginx.conf:33 tcp :5432",
		"location /assets/ sites-enabled/shop.conf:30: not checked: no entry of the expectations file requests it",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestBadInputBeforeDocker: an unknown proxy or release is one sentence,
// before any container starts (no Docker engine is needed to say so).
func TestBadInputBeforeDocker(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Config: "../fixtures/check/sample", Proxy: "envoy"}, `unknown proxy kind "envoy": check runs ` + adapterNames() + ` configurations`},
		{Options{Config: "../fixtures/check/haproxy", Release: "sid"}, `no project image of haproxy for Debian "sid": --release takes bookworm or trixie`},
		{Options{Config: "../fixtures/check/sample", Expect: "../fixtures/check/missing.yaml"}, "cannot read"},
	} {
		_, err := Run(t.Context(), tc.opts)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want a UsageError with %q", tc.opts, err, tc.want)
		}
	}
}

// TestHAProxyEntryRequests: expectations entries for the HAProxy sample
// are routed to the backend HAProxy's rules pick, their scheme and port
// filled in from the frontend's binds.
func TestHAProxyEntryRequests(t *testing.T) {
	es, err := LoadExpectations("../fixtures/check/haproxy/expect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := &haproxyAdapter{p: samplePlan(t)}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	var got []string
	for _, j := range a.allJobs(r, es) {
		got = append(got, j.loc.Location+" "+j.loc.At+" "+j.loc.Request.String())
	}
	want := []string{
		"backend be_shop haproxy.cfg:36 GET https://shop.example.com/",
		"backend be_shop_api haproxy.cfg:41 GET https://www.shop.example.com/api/v1/cart",
		"backend be_admin haproxy.cfg:46 GET http://admin.example.com/",
		"backend be_static haproxy.cfg:50 GET https://static.example.com/logo.png",
		"listen reports_tcp haproxy.cfg:56 tcp :5443",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
