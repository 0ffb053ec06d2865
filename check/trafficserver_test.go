package check

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// tsSample is the sample's folder read as check reads it.
func tsSample(t *testing.T) (*trafficserverAdapter, *runner) {
	t.Helper()
	dir := "../fixtures/check/trafficserver"
	cfg, err := lint.ParseTrafficServerFolder(filepath.Join(dir, "remap.config"))
	if err != nil {
		t.Fatal(err)
	}
	a := &trafficserverAdapter{cfg: cfg, dir: dir}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	a.plan(r)
	return a, r
}

// TestTrafficServerJobs: the sample's rules to https:// origins, each
// with its origin and the request made up for it (none for a regex_map
// host), the names the backend serves, the port, and the rule Traffic
// Server gives a request.
func TestTrafficServerJobs(t *testing.T) {
	a, r := tsSample(t)
	var got []string
	for _, j := range a.jobs(r, nil) {
		req := j.loc.NotChecked
		if j.loc.Request != nil {
			req = j.loc.Request.String()
		}
		got = append(got, fmt.Sprintf("%s %s %v %s", j.loc.Location, j.loc.At, j.targets, req))
	}
	want := []string{
		"map http://www.media.example/ remap.config:13 [web-origin.media.example:443] GET http://www.media.example:8080/",
		"map https://www.media.example/ remap.config:14 [web-origin.media.example:443] GET https://www.media.example/",
		"map http://api.media.example/ remap.config:19 [10.73.2.15:443] GET http://api.media.example:8080/",
		"map http://img.media.example/ remap.config:23 [10.73.4.20:8443] GET http://img.media.example:8080/",
		"map http://shop.media.example/ remap.config:26 [shop-origin.media.example:443] GET http://shop.media.example:8080/",
		"map http://media.example/live/ remap.config:31 [live-origin.media.example:443] GET http://media.example:8080/live/",
		"map https://partners.media.example/ remap.config:36 [partners-origin.media.example:443] GET https://partners.media.example/",
		`regex_map http://([a-z0-9-]+)\.cdn\.media\.example/ remap.config:39 [cdn-origin.media.example:443] GET http://0.cdn.media.example:8080/`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	if !slices.Contains(r.up.Names, "api-origin.media.example") || slices.Contains(r.up.Names, "shop.media.example") {
		t.Errorf("names %q: want the @NAME policy's name, not the client's Host", r.up.Names)
	}
	if p, tp := a.port(false), a.port(true); p != 8080 || tp != 443 {
		t.Errorf("ports %d and %d, want 8080 and 443", p, tp)
	}
	for _, tc := range []struct{ scheme, host, path, want string }{
		{"http", "www.media.example", "/x", "remap.config:13"},
		{"https", "www.media.example", "/x", "remap.config:14"},
		{"http", "media.example", "/live/a.m3u8", "remap.config:31"},
		{"http", "media.example", "/other", ""},
		{"http", "partners.media.example", "/", ""},
		{"http", "intranet.media.example", "/", ""},
	} {
		got := ""
		if rule := a.route(tc.scheme, tc.host, tc.path); rule != nil {
			got = relTo(a.dir, rule.File) + fmt.Sprintf(":%d", rule.Line)
		}
		if got != tc.want {
			t.Errorf("route(%s, %s, %s) = %q, want %q", tc.scheme, tc.host, tc.path, got, tc.want)
		}
	}
	if p, err := ProxyKind("", "../fixtures/check/trafficserver"); err != nil || p != ProxyTrafficServer {
		t.Errorf("ProxyKind of the sample's folder: %s %v", p, err)
	}
}

// TestTrafficServerDiagnose: each refusal's cause and its fix, in
// remap.config's syntax, by the records in effect for the rule.
func TestTrafficServerDiagnose(t *testing.T) {
	a, _ := tsSample(t)
	rule := func(line int) *lint.TSRule {
		for _, r := range a.cfg.Rules {
			if r.Line == line {
				return r
			}
		}
		t.Fatalf("no rule at line %d", line)
		return nil
	}
	none, shop := "", "shop.media.example"
	for _, tc := range []struct {
		line       int
		obs        harness.Observation
		cause, fix string
	}{
		{23, harness.Observation{Status: 502, Backend: fixtures.BackendRefused, Reason: backend.ReasonMissingSNI, SNI: &none}, CauseNoSNI,
			"map http://img.media.example/ https://10.73.4.20:8443/ @plugin=conf_remap.so @pparam=proxy.config.ssl.client.sni_policy=@<the upstream's host name>"},
		{26, harness.Observation{Status: 502, Backend: fixtures.BackendRefused, Reason: backend.ReasonUnknownSNI, SNI: &shop}, CauseWrongName,
			"map http://shop.media.example/ https://shop-origin.media.example/ @plugin=conf_remap.so @pparam=proxy.config.url_remap.pristine_host_hdr=1 @pparam=proxy.config.ssl.client.sni_policy=remap"},
		{31, harness.Observation{Status: 421, Backend: fixtures.BackendServed}, CauseBadResponse,
			"map http://media.example/live/ https://live-origin.media.example/live/ @plugin=conf_remap.so @pparam=proxy.config.url_remap.pristine_host_hdr=1 @pparam=proxy.config.ssl.client.sni_policy=host"},
		{13, harness.Observation{Status: 502, Backend: fixtures.BackendFailed, Reason: "bad record MAC"}, CauseVerify,
			"map http://www.media.example/ https://web-origin.media.example/ @plugin=conf_remap.so @pparam=proxy.config.ssl.client.CA.cert.filename=<the CA bundle that issued the upstream's certificate>"},
	} {
		d := diagnoseTrafficServer(a.cfg, rule(tc.line), &tc.obs)
		if d.Works || d.Cause != tc.cause || d.Fix != tc.fix {
			t.Errorf("line %d: %+v\nwant cause %s, fix %s", tc.line, d, tc.cause, tc.fix)
		}
	}
	if d := diagnoseTrafficServer(a.cfg, rule(13), &harness.Observation{Status: 200, Backend: fixtures.BackendServed}); !d.Works {
		t.Errorf("a 200 the upstream served: %+v", d)
	}
}

// TestTrafficServerDescribe: a rule's configuration with the records in
// effect, and its findings.
func TestTrafficServerDescribe(t *testing.T) {
	a, r := tsSample(t)
	for _, j := range a.jobs(r, nil) {
		a.describe(r, &j)
		if j.loc.Location != "map http://shop.media.example/" {
			continue
		}
		if !strings.Contains(j.loc.Config, "# proxy.config.url_remap.pristine_host_hdr 1 (conf_remap on the rule)") ||
			!strings.Contains(j.loc.Config, "# proxy.config.ssl.client.sni_policy host (the default)") {
			t.Errorf("config %q", j.loc.Config)
		}
		if len(j.loc.Lint) == 0 || j.loc.Lint[0].Rule != "TSV003" || j.loc.Lint[0].At != "remap.config:26" {
			t.Errorf("lint %+v, want TSV003 at remap.config:26", j.loc.Lint)
		}
	}
}

// TestTrafficServerReject: Traffic Server's messages point at the
// operator's file and line.
func TestTrafficServerReject(t *testing.T) {
	a, r := tsSample(t)
	a.reject(r, 1, "[Dec  4 01:00:00.000] traffic_server ERROR: /etc/trafficserver/remap.config line 21: malformed line")
	if r.rep.Rejected.At != "remap.config:21" {
		t.Errorf("at %q", r.rep.Rejected.At)
	}
}

// TestTrafficServerEntries: an expectations file's requests go to the
// rule Traffic Server gives them, by scheme, host and path, on the port
// of their scheme; one no rule to an https:// origin maps is not checked,
// and the rules no entry requests are listed, not checked.
func TestTrafficServerEntries(t *testing.T) {
	a, r := tsSample(t)
	status, sni := 200, "web-origin.media.example"
	exp := Expect{Status: &status, SNI: &sni}
	entries := []Entry{
		{Request: Request{Scheme: "https", Host: "www.media.example", Path: "/", Method: "GET"}, Expect: exp, Source: "e.yaml:1"},
		{Request: Request{Host: "media.example", Path: "/live/x.m3u8", Method: "GET"}, Expect: exp, Source: "e.yaml:3"},
		{Request: Request{Host: "intranet.media.example", Path: "/", Method: "GET"}, Expect: exp, Source: "e.yaml:5"},
	}
	var got []string
	for _, j := range a.jobs(r, entries) {
		got = append(got, fmt.Sprintf("%s %s %s", j.loc.Location, j.loc.Key, j.loc.NotChecked))
	}
	if len(got) != 9 || got[0] != "map https://www.media.example/ GET https://www.media.example/ " ||
		got[1] != "map http://media.example/live/ GET http://media.example:8080/live/x.m3u8 " ||
		got[2] != "no rule GET http://intranet.media.example:8080/ no remap rule to an https:// origin maps intranet.media.example/" ||
		!strings.HasSuffix(got[3], "no entry of the expectations file requests it") {
		t.Errorf("jobs %q", got)
	}
}
