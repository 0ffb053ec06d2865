package suites

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
)

// TestParseShard pins the shard syntax: "" is the whole run, "i/n" with
// 1 <= i <= n is a shard, and anything else is an error naming the input.
func TestParseShard(t *testing.T) {
	good := []struct {
		in   string
		want Shard
		str  string
	}{
		{"", Shard{1, 1}, "all"},
		{"1/1", Shard{1, 1}, "all"},
		{"1/4", Shard{1, 4}, "1/4"},
		{"4/4", Shard{4, 4}, "4/4"},
		{"2/3", Shard{2, 3}, "2/3"},
		{"12/16", Shard{12, 16}, "12/16"},
	}
	for _, tt := range good {
		got, err := ParseShard(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseShard(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.str {
			t.Errorf("ParseShard(%q).String() = %q, want %q", tt.in, got.String(), tt.str)
		}
	}
	for _, in := range []string{"0/4", "5/4", "a/b", "1/4x", "1/0", "0/0", "-1/4", "1/-4", "1", "1/", "/4", " 1/4", "1/4 ", "01/4", "+1/4", "1 / 4", "1-4", "all"} {
		got, err := ParseShard(in)
		if err == nil {
			t.Errorf("ParseShard(%q) = %+v, want an error", in, got)
			continue
		}
		if want := fmt.Sprintf("shard %q: want i/n with 1 <= i <= n", in); !strings.Contains(err.Error(), want) {
			t.Errorf("ParseShard(%q) error %q, want it to contain %q", in, err, want)
		}
		if got != (Shard{}) {
			t.Errorf("ParseShard(%q) = %+v with its error, want the zero Shard", in, got)
		}
	}
}

// TestShardString pins String for shards made by hand: "all" for a whole
// run, including the zero Shard, else "i/n".
func TestShardString(t *testing.T) {
	for sh, want := range map[Shard]string{{}: "all", {1, 1}: "all", {1, 2}: "1/2", {3, 7}: "3/7"} {
		if got := sh.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", sh, got, want)
		}
	}
}

// TestShardHas pins that the shards of a split partition the case ids:
// over hundreds of ids every id is in exactly one of the n shards, the same
// id lands in the same shard on every call, and no shard gets much more or
// less than its share. The whole run (and the zero Shard) has every id.
func TestShardHas(t *testing.T) {
	var ids []string
	for _, topic := range []string{"seed", "target", "name", "refusal", "tls", "verify"} {
		for i := range 50 {
			ids = append(ids, fmt.Sprintf("nginx/%s/case-%d", topic, i))
		}
	}
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("common/shared-%d", i))
	}
	for _, id := range ids {
		if !(Shard{1, 1}).Has(id) || !(Shard{}).Has(id) {
			t.Fatalf("the whole run does not have %q", id)
		}
	}
	for _, n := range []int{2, 3, 4, 7} {
		counts := make([]int, n)
		first := map[string]int{}
		for _, id := range ids {
			var in []int
			for i := 1; i <= n; i++ {
				if (Shard{i, n}).Has(id) {
					in = append(in, i)
				}
			}
			if len(in) != 1 {
				t.Errorf("n=%d: %q is in shards %v, want exactly one", n, id, in)
				continue
			}
			counts[in[0]-1]++
			first[id] = in[0]
		}
		// The same id, asked again (in another order), stays in its shard.
		for j := len(ids) - 1; j >= 0; j-- {
			id := ids[j]
			sh, err := ParseShard(fmt.Sprintf("%d/%d", first[id], n))
			if err != nil {
				t.Fatal(err)
			}
			if !sh.Has(id) {
				t.Errorf("n=%d: %q moved out of shard %d", n, id, first[id])
			}
		}
		share := float64(len(ids)) / float64(n)
		for i, c := range counts {
			if float64(c) < 0.6*share || float64(c) > 1.4*share {
				t.Errorf("n=%d: shard %d has %d of %d ids, want about %.0f (counts %v)", n, i+1, c, len(ids), share, counts)
			}
		}
	}
}

// TestVerdict pins the verdict of a record for every spec state, with the
// case listed in the known-issue ledger or not, and judged with or without
// differences or not judged at all: a skipped or pending spec is SKIP; a
// passing spec is PASS, or XFAIL when listed; a failing spec is FAIL, or
// XPASS when listed and the judge found no difference.
func TestVerdict(t *testing.T) {
	// The record variants, in the order of the verdicts below.
	type variant struct {
		name   string
		ledger bool
		judged bool
		diffs  []string
	}
	variants := []variant{
		{"not listed, not judged", false, false, nil},
		{"not listed, judged equal", false, true, nil},
		{"not listed, judged different", false, true, []string{"status 200 want 502"}},
		{"listed, not judged", true, false, nil},
		{"listed, judged equal", true, true, nil},
		{"listed, judged different", true, true, []string{"status 200 want 502"}},
	}
	const P, F, S, XF, XP = report.Pass, report.Fail, report.Skip, report.XFail, report.XPass
	tests := []struct {
		state types.SpecState
		want  [6]string
	}{
		{types.SpecStatePassed, [6]string{P, P, P, XF, XF, XF}},
		{types.SpecStateFailed, [6]string{F, F, F, F, XP, F}},
		{types.SpecStateSkipped, [6]string{S, S, S, S, S, S}},
		{types.SpecStatePending, [6]string{S, S, S, S, S, S}},
		{types.SpecStatePanicked, [6]string{F, F, F, F, XP, F}},
		{types.SpecStateInterrupted, [6]string{F, F, F, F, XP, F}},
		{types.SpecStateTimedout, [6]string{F, F, F, F, XP, F}},
		{types.SpecStateAborted, [6]string{F, F, F, F, XP, F}},
	}
	for _, tt := range tests {
		for i, v := range variants {
			rec := &report.Record{ID: "common/default-hostname", Judged: v.judged, Differences: v.diffs}
			if v.ledger {
				rec.Ledger = "h2o always sends SNI"
			}
			if got := Verdict(tt.state, rec); got != tt.want[i] {
				t.Errorf("Verdict(%s, %s) = %s, want %s", tt.state, v.name, got, tt.want[i])
			}
		}
	}
}

// kindsUnderTest is a small table of proxy kinds with their releases.
func kindsUnderTest() []harness.Kind {
	return []harness.Kind{
		{Name: "nginx", Releases: []string{"bookworm", "trixie"}},
		{Name: "h2o", Releases: []string{"bookworm"}},
		{Name: "haproxy", Releases: []string{"bookworm", "trixie"}},
	}
}

// casesUnderTest are the kinds' case tables: haproxy has none.
func casesUnderTest() map[string][]fixtures.Case {
	return map[string][]fixtures.Case{
		"nginx": {
			{ID: "nginx/seed/no-server-name", Labels: []string{"seed"}},
			{ID: "common/default-hostname"},
		},
		"h2o": {
			{ID: "common/default-hostname", Labels: []string{"slow"}},
		},
	}
}

// kindNames shows kinds as "name:release,release".
func kindNames(ks []harness.Kind) []string {
	out := []string{}
	for _, k := range ks {
		out = append(out, k.Name+":"+strings.Join(k.Releases, ","))
	}
	return out
}

// TestWanted pins which kinds and releases a label filter needs started: a
// kind's name, a release and a case's labels all select; a kind without a
// selected case is left out; no filter keeps every kind; a filter that
// does not parse is an error naming it. The caller's kinds are not changed.
func TestWanted(t *testing.T) {
	tests := []struct {
		filter string
		want   []string
	}{
		{"", []string{"nginx:bookworm,trixie", "h2o:bookworm", "haproxy:bookworm,trixie"}},
		{"nginx", []string{"nginx:bookworm,trixie"}},
		{"nginx && bookworm", []string{"nginx:bookworm"}},
		{"nginx && !bookworm", []string{"nginx:trixie"}},
		{"!nginx", []string{"h2o:bookworm"}},
		{"seed", []string{"nginx:bookworm,trixie"}},
		{"seed && trixie", []string{"nginx:trixie"}},
		{"bookworm", []string{"nginx:bookworm", "h2o:bookworm"}},
		{"slow || seed", []string{"nginx:bookworm,trixie", "h2o:bookworm"}},
		{"haproxy", []string{}},
		{"apache", []string{}},
		{"h2o && trixie", []string{}},
	}
	for _, tt := range tests {
		ks := kindsUnderTest()
		got, err := Wanted(tt.filter, ks, casesUnderTest())
		if err != nil {
			t.Errorf("Wanted(%q): %v", tt.filter, err)
			continue
		}
		if names := kindNames(got); !slices.Equal(names, tt.want) {
			t.Errorf("Wanted(%q) = %q, want %q", tt.filter, names, tt.want)
		}
		if names := kindNames(ks); !slices.Equal(names, kindNames(kindsUnderTest())) {
			t.Errorf("Wanted(%q) changed the caller's kinds to %q", tt.filter, names)
		}
	}
	for _, bad := range []string{"nginx &&", "(nginx", "nginx)", "&& bookworm"} {
		got, err := Wanted(bad, kindsUnderTest(), casesUnderTest())
		if err == nil {
			t.Errorf("Wanted(%q) = %q, want an error", bad, kindNames(got))
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("label filter %q", bad)) {
			t.Errorf("Wanted(%q) error %q does not name the filter", bad, err)
		}
	}
}

// entry is a report entry as AddReportEntry makes it in-process.
func entry(name string, value any) types.ReportEntry {
	return types.ReportEntry{Name: name, Value: types.WrapEntryValue(value)}
}

// TestRecords pins how a suite's Ginkgo report becomes records: only
// entries named RecordEntry that carry a *report.Record count, in spec
// order; each gets the verdict of its spec's state, and the spec's failure
// message unless it passed (PASS, XFAIL).
func TestRecords(t *testing.T) {
	rec := func(id string, mod func(*report.Record)) *report.Record {
		r := &report.Record{ID: id, Name: id, Proxy: "nginx", Version: "1.22.1", Verdict: "stale"}
		if mod != nil {
			mod(r)
		}
		return r
	}
	listed := func(r *report.Record) { r.Ledger, r.Judged = "known", true }
	spec := func(state types.SpecState, msg string, entries ...types.ReportEntry) types.SpecReport {
		return types.SpecReport{State: state, Failure: types.Failure{Message: msg}, ReportEntries: entries}
	}
	r := types.Report{SpecReports: types.SpecReports{
		spec(types.SpecStatePassed, ""), // the table loader's spec: no record
		spec(types.SpecStatePassed, "", entry(RecordEntry, rec("nginx/a/pass", nil))),
		spec(types.SpecStateFailed, "status 200 want 502", entry(RecordEntry, rec("nginx/a/fail", func(r *report.Record) {
			r.Judged, r.Differences = true, []string{"status 200 want 502"}
		}))),
		spec(types.SpecStatePassed, "", entry("other", "a note"), entry(RecordEntry, rec("nginx/a/xfail", func(r *report.Record) {
			listed(r)
			r.Differences = []string{"status 200 want 502"}
		}))),
		spec(types.SpecStateFailed, "XPASS: passes, but fixtures/ledger.yaml:3 expects it to fail", entry(RecordEntry, rec("nginx/a/xpass", listed))),
		spec(types.SpecStateSkipped, "skipped: nginx did not start", entry(RecordEntry, rec("nginx/a/skip", nil))),
		spec(types.SpecStatePanicked, "runtime error: index out of range", entry(RecordEntry, rec("nginx/a/panic", nil))),
		// Entries that are not records, or not named as records, are left out.
		spec(types.SpecStateFailed, "x", entry("other", rec("nginx/a/other-name", nil))),
		spec(types.SpecStateFailed, "x", entry(RecordEntry, *rec("nginx/a/by-value", nil))),
		spec(types.SpecStateFailed, "x", entry(RecordEntry, map[string]any{"id": "nginx/a/decoded"})),
		spec(types.SpecStateFailed, "x", entry(RecordEntry, nil)),
	}}
	got := Records(r)
	var gotStr []string
	for _, g := range got {
		gotStr = append(gotStr, g.ID+" "+g.Verdict+" "+g.Failure)
	}
	want := []string{
		"nginx/a/pass PASS ",
		"nginx/a/fail FAIL status 200 want 502",
		"nginx/a/xfail XFAIL ",
		"nginx/a/xpass XPASS XPASS: passes, but fixtures/ledger.yaml:3 expects it to fail",
		"nginx/a/skip SKIP skipped: nginx did not start",
		"nginx/a/panic FAIL runtime error: index out of range",
	}
	if !slices.Equal(gotStr, want) {
		t.Errorf("Records:\n got %q\nwant %q", gotStr, want)
	}
	if len(got) > 2 && (len(got[2].Differences) != 1 || got[2].Ledger != "known") {
		t.Errorf("Records lost fields: %+v", got[2])
	}
	if len(Records(types.Report{})) != 0 {
		t.Error("Records of an empty report is not empty")
	}
}

// TestSuite pins a suite's report: its name and records, and its setup
// error sorted by kind: an InfraError (even wrapped) is an infrastructure
// error, any other error a setup error of the project's own.
func TestSuite(t *testing.T) {
	r := types.Report{SpecReports: types.SpecReports{{State: types.SpecStatePassed,
		ReportEntries: types.ReportEntries{entry(RecordEntry, &report.Record{ID: "nginx/a/b", Proxy: "nginx", Version: "1.22.1"})}}}}
	infra := &harness.InfraError{Op: "connect to Docker", Err: errors.New("the Docker engine does not answer")}
	tests := []struct {
		name       string
		err        error
		infra, set string
	}{
		{"no error", nil, "", ""},
		{"infra", infra, "connect to Docker: the Docker engine does not answer", ""},
		{"wrapped infra", fmt.Errorf("start nginx: %w", infra), "start nginx: connect to Docker: the Docker engine does not answer", ""},
		{"setup", errors.New("fixtures/nginx/cases.yaml:3: id is required"), "", "fixtures/nginx/cases.yaml:3: id is required"},
		{"wrapped plain error", fmt.Errorf("render: %w", errors.New("missing key")), "", "render: missing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Suite("proxies", r, tt.err)
			if s.Suite != "proxies" || s.InfraError != tt.infra || s.SetupError != tt.set {
				t.Errorf("Suite = %q infra %q setup %q, want proxies, %q, %q", s.Suite, s.InfraError, s.SetupError, tt.infra, tt.set)
			}
			if len(s.Records) != 1 || s.Records[0].ID != "nginx/a/b" || s.Records[0].Verdict != report.Pass {
				t.Errorf("Records = %+v, want nginx/a/b PASS", s.Records)
			}
		})
	}
	// Together with report.Build, the suite's error sets the exit code.
	if got := report.Build([]report.Suite{Suite("proxies", r, infra)}).ExitCode(); got != report.ExitInfra {
		t.Errorf("exit %d for an infrastructure error, want %d", got, report.ExitInfra)
	}
	if got := report.Build([]report.Suite{Suite("proxies", r, errors.New("bad"))}).ExitCode(); got != report.ExitFail {
		t.Errorf("exit %d for a setup error, want %d", got, report.ExitFail)
	}
}

// TestReportDir pins that SNIPROOF_REPORTS names the report folder, and
// that reports/ at the module root is the default.
func TestReportDir(t *testing.T) {
	t.Setenv("SNIPROOF_REPORTS", "/tmp/elsewhere")
	if d, err := ReportDir(); err != nil || d != "/tmp/elsewhere" {
		t.Errorf("ReportDir = %q, %v, want /tmp/elsewhere", d, err)
	}
	t.Setenv("SNIPROOF_REPORTS", "")
	d, err := ReportDir()
	if err != nil {
		t.Fatal(err)
	}
	// The test runs in suites/, one folder below the module root.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(wd), "reports"); d != want {
		t.Errorf("ReportDir = %q, want %q", d, want)
	}
}

// TestShardGolden pins where some real case ids land in a 4-way split, so
// that a change of the hash, which would reshuffle every CI shard, is
// deliberate.
func TestShardGolden(t *testing.T) {
	want := map[string]int{
		"common/default-hostname":   1,
		"common/ip-default":         1,
		"nginx/seed/no-server-name": 2,
		"nginx/refusal/hang-off":    2,
		"common/sni-enabled":        4,
		"nginx/seed/server-name-on": 4,
	}
	for id, shard := range want {
		for i := 1; i <= 4; i++ {
			if got := (Shard{i, 4}).Has(id); got != (i == shard) {
				t.Errorf("Shard{%d, 4}.Has(%q) = %v, want it in shard %d only", i, id, got, shard)
			}
		}
	}
}

// TestParseNames pins --suites: names in the order All gives, each once,
// "all" for every suite, and an error listing the suites for anything else.
func TestParseNames(t *testing.T) {
	good := map[string][]string{
		"proxies,clients":           {"proxies", "clients"},
		"clients,proxies":           {"proxies", "clients"},
		"reliability, check":        {"check", "reliability"},
		"proxies,proxies":           {"proxies"},
		"all":                       {"proxies", "clients", "check", "reliability"},
		"check,reliability,clients": {"clients", "check", "reliability"},
	}
	for in, want := range good {
		if got, err := ParseNames(in); err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseNames(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "proxy", "proxies,", "ALL", "all,check"} {
		_, err := ParseNames(in)
		if err == nil || !strings.Contains(err.Error(), "proxies, clients, check, reliability, or all") {
			t.Errorf("ParseNames(%q) = %v, want an error listing the suites", in, err)
		}
	}
}

// TestImages pins the images a run builds before its suites: the proxy
// versions the label filter selects, the client image and its nginx
// frontend, check's proxies on each release, and nothing for the
// reliability suite, whose runs build their own.
func TestImages(t *testing.T) {
	all := Shard{1, 1}
	of := func(kinds ...string) []string {
		var out []string
		for _, name := range kinds {
			k, err := harness.LookupKind(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, rel := range k.Releases {
				out = append(out, k.Image+"/"+rel)
			}
		}
		return out
	}
	tests := []struct {
		names  []string
		filter string
		want   []string
	}{
		{[]string{"proxies"}, "nginx && bookworm", []string{"nginx/bookworm"}},
		{[]string{"proxies"}, "goproxy", nil},
		{[]string{"proxies"}, "haproxy || nginx", of("haproxy", "nginx")},
		{[]string{"proxies", "clients"}, "nginx && bookworm", []string{"nginx/bookworm"}},
		{[]string{"clients"}, "", []string{"nginx/bookworm", "clients/bookworm"}},
		{[]string{"clients"}, "nginx", nil},
		{[]string{"check"}, "", of("nginx", "haproxy")},
		{[]string{"reliability"}, "", nil},
	}
	for _, tt := range tests {
		rs, err := Images(tt.names, tt.filter, all)
		var got []string
		for _, r := range rs {
			got = append(got, r.Image+"/"+r.Release)
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Images(%q, %q) = %q, %v, want %q", tt.names, tt.filter, got, err, tt.want)
		}
	}
	every, err := Images(All(), "", all)
	if err != nil {
		t.Fatal(err)
	}
	recipes, _ := filepath.Glob("../docker/*/*.packages")
	if len(every) != len(recipes) {
		t.Errorf("a whole run builds %d images, but docker/ has %d recipes", len(every), len(recipes))
	}
	if _, err := Images([]string{"proxies"}, "nginx &&", all); err == nil {
		t.Error("a label filter that does not parse gave no error")
	}
}

// TestLanes: the check suite runs beside the others, which keep their
// order in one run.
func TestLanes(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want [][]string
	}{
		{[]string{"proxies", "clients", "check", "reliability"}, [][]string{{"proxies", "clients", "reliability"}, {"check"}}},
		{[]string{"check"}, [][]string{{"check"}}},
		{[]string{"proxies", "clients"}, [][]string{{"proxies", "clients"}}},
		{nil, nil},
	} {
		if got := Lanes(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Lanes(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestCountProgress: the parent of a parallel run prints the progress of
// the specs its processes counted in the file, failures included.
func TestCountProgress(t *testing.T) {
	file := filepath.Join(t.TempDir(), "counts")
	if err := os.WriteFile(file, []byte("..F"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	p := NewProgress(&out, false)
	p.Start(3)
	stop := make(chan struct{})
	close(stop)
	CountProgress(p, file, time.Hour, stop)
	if got, want := out.String(), "\nsniproof: 3/3 specs done, 1 failed\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}
