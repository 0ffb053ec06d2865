package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/certs"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
	"github.com/sniproof/sniproof/redact"
)

// h2oSample is the adapter of an h2o configuration, planned.
func h2oSample(t *testing.T, file string) (*h2oAdapter, *runner) {
	t.Helper()
	cfg, err := lint.ParseH2OFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a := &h2oAdapter{file: file, dir: filepath.Dir(file), main: "/etc/h2o/h2o.conf", cfg: cfg}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	a.plan(r)
	return a, r
}

// h2oWrite writes an h2o.conf of its own and returns its path.
func h2oWrite(t *testing.T, conf string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "h2o.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestH2OPaths: the sample's paths with an https upstream, from its
// !file sites, their requests to the TLS listener of their host, the
// targets, the ports check publishes, and lint's findings at the broken
// paths only.
func TestH2OPaths(t *testing.T) {
	a, r := h2oSample(t, "../fixtures/check/h2o/h2o.conf")
	if !a.claims("../fixtures/check/h2o") {
		t.Error("the sample's folder is not claimed as h2o's")
	}
	var got []string
	for _, j := range a.jobs(r, nil) {
		var rules []string
		a.describe(r, &j)
		for _, f := range j.loc.Lint {
			rules = append(rules, f.Rule+" "+f.At)
		}
		got = append(got, j.loc.Location+" "+j.loc.At+" "+j.loc.Request.String()+" -> "+j.targets[0].String()+" "+strings.Join(rules, ","))
	}
	want := []string{
		"host shop.example.com:443 path / sites/shop.conf:4 GET https://shop.example.com/ -> storefront.internal.example:443 ",
		"host shop.example.com:443 path /api/ sites/shop.conf:6 GET https://shop.example.com/api/ -> api.internal.example:443 ",
		"host shop.example.com:443 path /search/ sites/shop.conf:9 GET https://shop.example.com/search/ -> 10.79.4.20:9443 H2O001 sites/shop.conf:11",
		"host shop.example.com:443 path /media/ sites/shop.conf:12 GET https://shop.example.com/media/ -> media.internal.example:443 ",
		"host billing.example.com:443 path / sites/billing.conf:3 GET https://billing.example.com/ -> billing.internal.example:443 H2O002 sites/billing.conf:4",
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	if p := a.ports(r); !slices.Equal(p, []int{80, 443}) {
		t.Errorf("ports %v, want [80 443]", p)
	}
	if len(a.IPs) != 1 || a.IPs[0].String() != "10.79.4.20" || !slices.Contains(a.Names, "billing.internal.example") {
		t.Errorf("upstreams %+v", a.Upstreams)
	}
	j := a.jobs(r, nil)[1]
	a.describe(r, &j)
	if want := "/api/:\n  proxy.reverse.url: https://api.internal.example/v2/\n  proxy.timeout.io: 10000\n" +
		"proxy.ssl.cafile: /etc/h2o/internal-ca.pem  # inherited from host shop.example.com:443, sites/shop.conf:2\n"; j.loc.Config != want {
		t.Errorf("config\n%s\nwant\n%s", j.loc.Config, want)
	}
}

// TestH2OShown: a path's configuration in the report keeps no
// credential of a header directive, nor the code of an mruby handler.
func TestH2OShown(t *testing.T) {
	a, r := h2oSample(t, h2oWrite(t, "listen: 8080\nhosts:\n  a:\n    paths:\n      /:\n        proxy.reverse.url: https://a.internal/\n"+
		"        proxy.header.set: \"Authorization: Bearer s3cr3t-token\"\n        proxy.header.add: \"X-Trace: on\"\n        mruby.handler: |\n          TOKEN = \"s3cr3t-ruby\"\n          Proc.new { TOKEN }\n"))
	j := a.jobs(r, nil)[0]
	a.describe(r, &j)
	// As Run writes every report: through redact.Copy.
	shown := redact.Copy(j.loc).Config
	want := "/:\n  proxy.reverse.url: https://a.internal/\n  proxy.header.set: \"Authorization: REDACTED\"\n  proxy.header.add: \"X-Trace: on\"\n  mruby.handler: |  # 2 lines\n"
	if shown != want || strings.Contains(shown, "s3cr3t") {
		t.Errorf("config\n%s\nwant\n%s", shown, want)
	}
}

// TestH2OFiles: the configuration and its !file sites where h2o opens
// them, the run's CA at proxy.ssl.cafile, throwaway certificates for the
// TLS listener, and the followed error log of Debian's rotatelogs pipe.
func TestH2OFiles(t *testing.T) {
	a, r := h2oSample(t, "../fixtures/check/h2o/h2o.conf")
	ca, err := certs.NewCA("sniproof test CA")
	if err != nil {
		t.Fatal(err)
	}
	r.ca = ca
	files, err := a.files(r)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range files {
		got = append(got, p)
	}
	slices.Sort(got)
	want := []string{"/etc/h2o/h2o.conf", "/etc/h2o/internal-ca.pem", "/etc/h2o/sites/billing.conf", "/etc/h2o/sites/shop.conf",
		"/etc/ssl/certs/ssl-cert-snakeoil.pem", "/etc/ssl/private/ssl-cert-snakeoil.key"}
	if !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if string(files["/etc/h2o/internal-ca.pem"]) != string(ca.CertPEM()) {
		t.Error("the run's CA is not at proxy.ssl.cafile")
	}
	if log, _ := a.errorLog(); log != "/var/log/h2o/error.log" {
		t.Errorf("error log %q, want rotatelogs' link /var/log/h2o/error.log", log)
	}
}

// TestH2ORoute: expectations entries go to the path h2o gives them: the
// host by name and port (the first host when none matches), the longest
// path prefix; a path without an https upstream is reported, a path no
// entry requests is not checked.
func TestH2ORoute(t *testing.T) {
	file := h2oWrite(t, "listen: 8080\nhosts:\n  \"a.example\":\n    paths:\n      /:\n        proxy.reverse.url: https://a.internal/\n      /api/:\n        proxy.reverse.url: https://api.internal/\n"+
		"      /static/:\n        file.dir: /var/www\n  \"*.b.example:8443\":\n    listen: 8443\n    paths:\n      /:\n        proxy.reverse.url: https://b.internal/\n")
	a, r := h2oSample(t, file)
	var got []string
	for _, j := range a.jobs(r, nil) {
		got = append(got, j.loc.Location+" "+j.loc.Request.String())
	}
	want := []string{"host a.example path / GET http://a.example:8080/", "host a.example path /api/ GET http://a.example:8080/api/",
		"host *.b.example:8443 path / GET http://www.b.example:8443/"}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	jobs := a.jobs(r, []Entry{
		{Request: Request{Host: "a.example", Path: "/api/v1"}, Source: "e.yaml:1"},
		{Request: Request{Host: "x.b.example:8443", Scheme: "http", Port: 8443}, Source: "e.yaml:3"},
		{Request: Request{Host: "a.example", Path: "/static/x"}, Source: "e.yaml:5"},
	})
	got = nil
	for _, j := range jobs {
		got = append(got, j.loc.Location+" | "+j.loc.Key+" | "+j.loc.NotChecked)
	}
	want = []string{
		"host a.example path /api/ | GET http://a.example:8080/api/v1 | ",
		"host *.b.example:8443 path / | GET http://x.b.example:8443/ | ",
		"no path | GET http://a.example:8080/static/x | host a.example path /static/ has no https proxy.reverse.url",
		"host a.example path / | " + relTo(a.dir, file) + " host a.example path / | no entry of the expectations file requests it",
	}
	if !slices.Equal(got, want) {
		t.Errorf("entry jobs\n%q\nwant\n%q", got, want)
	}
}

// TestH2ONotChecked: a host whose only listener is on loopback is
// reported, not requested.
func TestH2ONotChecked(t *testing.T) {
	a, r := h2oSample(t, h2oWrite(t, "listen:\n  host: 127.0.0.1\n  port: 8080\nhosts:\n  a:\n    paths:\n      /: {proxy.reverse.url: \"https://a.internal/\"}\n"))
	for _, j := range a.jobs(r, nil) {
		if j.loc.Outcome != NotChecked || !strings.Contains(j.loc.NotChecked, "no listener of host a") {
			t.Errorf("%s: outcome %q (%s), want not checked for its listener", j.loc.Location, j.loc.Outcome, j.loc.NotChecked)
		}
	}
	if p := a.ports(r); len(p) != 0 {
		t.Errorf("ports %v, want none", p)
	}
}

// TestDiagnoseH2O: the cause and the fix, in h2o's YAML, of each way a
// path breaks.
func TestDiagnoseH2O(t *testing.T) {
	a, r := h2oSample(t, h2oWrite(t, "listen: 8080\nhosts:\n  a:\n    paths:\n      /ip:\n        proxy.reverse.url: https://10.0.0.5:8443/app/\n        proxy.ssl.cafile: /etc/h2o/ca.pem\n"+
		"      /noca:\n        proxy.reverse.url: https://api.internal/\n      /same:\n        proxy.reverse.url: https://s.internal/\n        proxy.preserve-host: ON\n        proxy.ssl.verify-peer: OFF\n"))
	jobs := a.jobs(r, nil)
	sni := func(s string) *string { return &s }
	for _, tc := range []struct {
		job        int
		obs        harness.Observation
		cause, fix string
	}{
		{0, harness.Observation{Status: 502, Backend: fixtures.BackendRefused, Reason: backend.ReasonUnknownSNI, SNI: sni("10.0.0.5")}, CauseWrongName, "proxy.reverse.url: https://<the upstream's host name>:8443/app/"},
		{0, harness.Observation{Status: 502, Backend: fixtures.BackendFailed, Reason: "EOF", SNI: sni("10.0.0.5")}, CauseVerify, "proxy.ssl.cafile: <the CA bundle that issued the upstream's certificate>"},
		{1, harness.Observation{Status: 502, Backend: fixtures.BackendFailed, Reason: "EOF", SNI: sni("api.internal"), ProxyLog: []string{"[lib/core/proxy.c] in request:/:unable to get local issuer certificate"}}, CauseVerify, "proxy.ssl.cafile: /etc/ssl/certs/ca-certificates.crt"},
		{2, harness.Observation{Status: 421, Backend: fixtures.BackendServed, SNI: sni("s.internal")}, CauseBadResponse, "proxy.preserve-host: OFF"},
		{2, harness.Observation{Status: 502, Backend: fixtures.BackendFailed, Reason: "EOF", SNI: sni("s.internal")}, CauseHandshake, ""},
		{2, harness.Observation{Status: 200, Backend: fixtures.BackendServed, SNI: sni("s.internal")}, "", ""},
	} {
		d := a.diagnose(r, &jobs[tc.job], &tc.obs)
		if d.Cause != tc.cause || d.Fix != tc.fix || d.Works != (tc.cause == "") {
			t.Errorf("%s, %+v: %+v, want cause %q fix %q", jobs[tc.job].loc.Location, tc.obs, d, tc.cause, tc.fix)
		}
	}
}

// TestH2OReject: h2o's refusals name the operator's file and line.
func TestH2OReject(t *testing.T) {
	a, r := h2oSample(t, "../fixtures/check/h2o/h2o.conf")
	for _, tc := range []struct{ out, at string }{
		{"[/etc/h2o/sites/shop.conf:2] in command proxy.ssl.cafile, failed to load certificates file:/x", "sites/shop.conf:2"},
		{"failed to parse configuration file /etc/h2o/h2o.conf line 5: tag resolution failed", "h2o.conf:5"},
	} {
		a.reject(r, 1, tc.out)
		if r.rep.Rejected.At != tc.at {
			t.Errorf("%q: at %q, want %q", tc.out, r.rep.Rejected.At, tc.at)
		}
	}
}
