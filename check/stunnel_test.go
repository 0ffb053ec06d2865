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

// stunnelSample is the adapter of a stunnel configuration, planned.
func stunnelSample(t *testing.T, file string, data []byte) (*stunnelAdapter, *runner) {
	t.Helper()
	cfg, err := lint.ParseStunnel(filepath.Base(file), data, lint.StunnelIncludes(file))
	if err != nil {
		t.Fatal(err)
	}
	a := &stunnelAdapter{file: file, main: "/etc/stunnel/stunnel.conf", data: data, cfg: cfg}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	a.plan(r)
	return a, r
}

// TestStunnelServices: the sample's client-mode services, their targets,
// the ports check publishes, the requests, and the names the backend
// serves (sni and checkHost values among them).
func TestStunnelServices(t *testing.T) {
	const file = "../fixtures/check/stunnel/stunnel.conf"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a, r := stunnelSample(t, file, data)
	var got []string
	for _, j := range a.jobs(r, nil) {
		got = append(got, j.loc.Location+" "+j.loc.Request.String()+" -> "+j.targets[0].String())
	}
	want := []string{
		"service [api] GET http://api.internal.example:8001/ -> api.internal.example:443",
		"service [billing] GET http://10.61.4.11:8002/ -> 10.61.4.11:8443",
		"service [search] GET http://search.internal.example:8003/ -> search.internal.example:443",
		"service [reports] GET http://reports.internal.example:8004/ -> 10.61.4.30:9443",
		"service [ledger] GET http://ledger.internal.example:8005/ -> ledger.internal.example:443",
		"service [metrics] GET http://metrics.internal.example:9100/ -> metrics.internal.example:443",
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	if p := a.ports(r); !slices.Equal(p, []int{8001, 8002, 8003, 8004, 8005, 9100}) {
		t.Errorf("ports %v", p)
	}
	for _, n := range []string{"billing.internal.example", "reports.internal.example"} {
		if !slices.Contains(a.Names, n) {
			t.Errorf("names %q lack %s", a.Names, n)
		}
	}
}

// TestStunnelNotChecked: a loopback accept and a pre-shared key tunnel
// are reported, not requested.
func TestStunnelNotChecked(t *testing.T) {
	a, r := stunnelSample(t, "stunnel.conf", []byte("[local]\nclient = yes\naccept = 127.0.0.1:9001\nconnect = a.internal:443\n[peer]\nclient = yes\naccept = 9002\nconnect = b.internal:443\nPSKsecrets = /etc/stunnel/psk.txt\n"))
	for _, j := range a.jobs(r, nil) {
		if j.loc.Outcome != NotChecked || j.loc.NotChecked == "" {
			t.Errorf("%s: outcome %q, want not checked with a reason", j.loc.Location, j.loc.Outcome)
		}
	}
	if p := a.ports(r); len(p) != 0 {
		t.Errorf("ports %v, want none", p)
	}
}

// TestDiagnoseStunnel: the cause and the fix, in stunnel's syntax, of
// each way a service breaks.
func TestDiagnoseStunnel(t *testing.T) {
	a, r := stunnelSample(t, "stunnel.conf", []byte("[ip]\nclient = yes\naccept = 1\nconnect = 10.0.0.5:443\ncheckHost = api.internal.example\nverifyChain = yes\nCAfile = /ca.pem\n[empty]\nclient = yes\naccept = 2\nconnect = s.internal:443\nsni =\n"))
	jobs := a.jobs(r, nil)
	sni := func(s string) *string { return &s }
	for _, tc := range []struct {
		job        int
		obs        harness.Observation
		cause, fix string
	}{
		{0, harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonUnknownSNI, SNI: sni("10.0.0.5")}, CauseWrongName, "sni = api.internal.example"},
		{1, harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonMissingSNI, SNI: sni("")}, CauseNoSNI, "sni = s.internal"},
		{0, harness.Observation{Backend: fixtures.BackendFailed, Reason: "bad record MAC", SNI: sni("10.0.0.5")}, CauseVerify, "checkHost = <the name the upstream's certificate holds> (now api.internal.example), or CAfile = <the CA bundle that issued it>"},
		{1, harness.Observation{Backend: fixtures.BackendServed, Status: 200, SNI: sni("s.internal")}, "", ""},
	} {
		d := a.diagnose(r, &jobs[tc.job], &tc.obs)
		if d.Cause != tc.cause || d.Fix != tc.fix || d.Works != (tc.cause == "") {
			t.Errorf("%s, %+v: %+v, want cause %q fix %q", jobs[tc.job].loc.Location, tc.obs, d, tc.cause, tc.fix)
		}
	}
}

// TestStunnelEntries: expectations entries go to the service of their
// port; a port no service accepts on is reported, and a service no entry
// requests is not checked.
func TestStunnelEntries(t *testing.T) {
	a, r := stunnelSample(t, "stunnel.conf", []byte("client = yes\n[a]\naccept = 9001\nconnect = a.internal:443\n[b]\naccept = 9002\nconnect = b.internal:443\n"))
	jobs := a.jobs(r, []Entry{{Request: Request{Host: "x.example", Port: 9002, Path: "/health"}, Source: "e.yaml:1"}, {Request: Request{Port: 9999}, Source: "e.yaml:4"}})
	var got []string
	for _, j := range jobs {
		got = append(got, j.loc.Location+" "+j.loc.Key+" "+string(j.loc.Outcome))
	}
	want := []string{"service [b] GET http://x.example:9002/health ", "no service  " + string(NotChecked), "service [a] stunnel.conf service [a] " + string(NotChecked)}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
}
