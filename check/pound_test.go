package check

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// poundSample is the adapter of a pound configuration, planned.
func poundSample(t *testing.T, file string, data []byte) (*poundAdapter, *runner) {
	t.Helper()
	cfg, err := lint.ParsePound(filepath.Base(file), data, lint.PoundIncludes(file))
	if err != nil {
		t.Fatal(err)
	}
	a := &poundAdapter{file: file, main: "/etc/pound/pound.cfg", data: data, cfg: cfg}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	a.plan(r)
	return a, r
}

// TestPoundServices: the sample's services with an HTTPS backend (not the
// plain one), their requests by Host, targets and published port; a
// folder is claimed by its pound.cfg, where Apache's adapter looks for an
// apache2.conf.
func TestPoundServices(t *testing.T) {
	const file = "../fixtures/check/pound/pound.cfg"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a, r := poundSample(t, file, data)
	var got []string
	for _, j := range a.jobs(r, nil) {
		got = append(got, j.loc.Location+" "+j.loc.Request.String()+" -> "+j.targets[0].String())
	}
	want := []string{
		`Service "shop" GET http://shop.example.com:8080/ -> origin.shop.internal.example:443`,
		`Service "api" GET http://api.example.com:8080/ -> 10.61.9.21:8443`,
		`Service "search" GET http://search.example.com:8080/ -> search.internal.example:443`,
		`Service "accounts" GET http://accounts.example.com:8080/ -> 10.61.9.40:9443`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	if p := a.ports(r); !slices.Equal(p, []int{8080}) {
		t.Errorf("ports %v, want [8080]", p)
	}
	if k, err := ProxyKind("", "../fixtures/check/pound"); err != nil || k != ProxyPound {
		t.Errorf("ProxyKind of the sample's folder: %q, %v; want pound", k, err)
	}
}

// TestDiagnosePound: the cause and the fix, in pound's syntax.
func TestDiagnosePound(t *testing.T) {
	a, r := poundSample(t, "pound.cfg", []byte("ListenHTTP\n Port 8080\n Service \"a\"\n  Host \"a.example\"\n  Backend\n   Address a.internal\n   Port 443\n   HTTPS\n  End\n End\n Service \"b\"\n  URL \"^/b/\"\n  SetHeader \"Host: other\"\n  Backend\n   Address 10.0.0.5\n   Port 443\n   HTTPS\n   ServerName \"b.internal\"\n  End\n End\nEnd\n"))
	jobs := a.jobs(r, nil)
	if got := jobs[1].loc.Request.String(); got != "GET http://localhost:8080/b/" {
		t.Errorf("request of b: %s", got)
	}
	sni := func(s string) *string { return &s }
	for _, tc := range []struct {
		job        int
		obs        harness.Observation
		cause, fix string
	}{
		{0, harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonMissingSNI, SNI: sni(""), Status: 503}, CauseNoSNI, `ServerName "a.internal"`},
		{1, harness.Observation{Backend: fixtures.BackendServed, Status: 421, SNI: sni("b.internal")}, CauseBadResponse, `drop the SetHeader "Host: ...": ServerName sets the Host`},
		{1, harness.Observation{Backend: fixtures.BackendServed, Status: 200, SNI: sni("b.internal")}, "", ""},
	} {
		d := a.diagnose(r, &jobs[tc.job], &tc.obs)
		if d.Cause != tc.cause || d.Fix != tc.fix || d.Works != (tc.cause == "") {
			t.Errorf("%s, %+v: %+v, want cause %q fix %q", jobs[tc.job].loc.Location, tc.obs, d, tc.cause, tc.fix)
		}
	}
}

// TestPoundReject: pound's FILE:LINE.COL names the operator's file and
// line.
func TestPoundReject(t *testing.T) {
	for out, at := range map[string]string{
		"pound: /etc/pound/pound.cfg:9.7-11: unrecognized keyword":    "pound.cfg:9",
		"pound: /etc/pound/conf.d/a.cfg:1.10: unexpected end of file": "conf.d/a.cfg:1",
	} {
		r := &runner{rep: &Report{}}
		(&poundAdapter{}).reject(r, 1, out)
		if r.rep.Rejected == nil || r.rep.Rejected.At != at {
			t.Errorf("%q: rejected %+v, want at %s", out, r.rep.Rejected, at)
		}
	}
}
