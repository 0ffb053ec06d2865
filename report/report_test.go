package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// rec is a record with just what Build, Collect, Merge and WriteSuite look
// at.
func rec(id, version, verdict string) Record {
	return Record{ID: id, Name: id, Suite: "proxies", Proxy: "nginx", Version: version, Verdict: verdict}
}

// recOn is rec on another proxy.
func recOn(proxy, id, version, verdict string) Record {
	r := rec(id, version, verdict)
	r.Proxy = proxy
	return r
}

// TestCollect pins how Collect sums up the suites' files: the counts, the
// errors it collects, the shard it names, and the run's exit code (0 all
// pass, 1 a failure, an XPASS or a setup error, 2 nothing passed and nothing
// failed, 3 an infrastructure error or no suite file at all).
func TestCollect(t *testing.T) {
	tests := []struct {
		name       string
		suites     []Suite
		want       Summary
		wantExit   int
		wantInfra  []string // substrings, one per infra error
		wantSetup  []string // substrings, one per setup error
		wantRecIDs []string
	}{
		{
			name:       "all pass",
			suites:     []Suite{{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Pass), rec("nginx/a/c", "1.22.1", Pass)}}},
			want:       Summary{Passed: 2},
			wantExit:   ExitPass,
			wantRecIDs: []string{"nginx/a/b", "nginx/a/c"},
		},
		{
			name:       "pass and skip",
			suites:     []Suite{{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Pass), rec("nginx/a/c", "1.22.1", Skip)}}},
			want:       Summary{Passed: 1, Skipped: 1},
			wantExit:   ExitPass,
			wantRecIDs: []string{"nginx/a/b", "nginx/a/c"},
		},
		{
			name:       "one failure",
			suites:     []Suite{{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Pass), rec("nginx/a/b", "1.26.3", Fail), rec("nginx/a/c", "1.22.1", Skip)}}},
			want:       Summary{Passed: 1, Failed: 1, Skipped: 1},
			wantExit:   ExitFail,
			wantRecIDs: []string{"nginx/a/b", "nginx/a/b", "nginx/a/c"},
		},
		{
			name:       "xfail passes the run",
			suites:     []Suite{{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Pass), rec("nginx/a/c", "1.22.1", XFail)}}},
			want:       Summary{Passed: 1, XFailed: 1},
			wantExit:   ExitPass,
			wantRecIDs: []string{"nginx/a/b", "nginx/a/c"},
		},
		{
			name:       "xpass fails the run",
			suites:     []Suite{{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Pass), rec("nginx/a/c", "1.22.1", XPass)}}},
			want:       Summary{Passed: 1, XPassed: 1},
			wantExit:   ExitFail,
			wantRecIDs: []string{"nginx/a/b", "nginx/a/c"},
		},
		{
			name:       "setup error",
			suites:     []Suite{{Suite: "nginx", SetupError: "fixtures/nginx/cases.yaml:3: bad", Records: []Record{rec("nginx/a/b", "1.22.1", Pass)}}},
			want:       Summary{Passed: 1},
			wantExit:   ExitFail,
			wantSetup:  []string{"nginx: fixtures/nginx/cases.yaml:3: bad"},
			wantRecIDs: []string{"nginx/a/b"},
		},
		{
			name:       "only skips",
			suites:     []Suite{{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Skip)}}},
			want:       Summary{Skipped: 1},
			wantExit:   ExitEmpty,
			wantRecIDs: []string{"nginx/a/b"},
		},
		{
			name:     "no records",
			suites:   []Suite{{Suite: "nginx"}},
			wantExit: ExitEmpty,
		},
		{
			name: "infra error wins over failure",
			suites: []Suite{
				{Suite: "apache", InfraError: "build image: mmdebstrap failed"},
				{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Fail)}},
			},
			want:       Summary{Failed: 1},
			wantExit:   ExitInfra,
			wantInfra:  []string{"apache: build image: mmdebstrap failed"},
			wantRecIDs: []string{"nginx/a/b"},
		},
		{
			name:      "no suite file",
			wantExit:  ExitInfra,
			wantInfra: []string{"no suite wrote its records"},
		},
		{
			name: "suites merge in key order",
			suites: []Suite{
				{Suite: "zeta", Records: []Record{rec("zeta/a/b", "1", Pass)}},
				{Suite: "alpha", Records: []Record{rec("alpha/a/b", "1", Pass)}},
			},
			want:       Summary{Passed: 2},
			wantExit:   ExitPass,
			wantRecIDs: []string{"alpha/a/b", "zeta/a/b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, s := range tt.suites {
				if err := WriteSuite(dir, s); err != nil {
					t.Fatal(err)
				}
			}
			doc, err := Collect(dir, "all")
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if doc.Summary != tt.want {
				t.Errorf("Summary = %+v, want %+v", doc.Summary, tt.want)
			}
			if got := doc.ExitCode(); got != tt.wantExit {
				t.Errorf("ExitCode = %d, want %d (%s)", got, tt.wantExit, doc.Explain())
			}
			checkErrors(t, "InfraErrors", doc.InfraErrors, tt.wantInfra)
			checkErrors(t, "SetupErrors", doc.SetupErrors, tt.wantSetup)
			var ids []string
			for _, r := range doc.Records {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tt.wantRecIDs) {
				t.Errorf("record ids = %q, want %q", ids, tt.wantRecIDs)
			}
			if !slices.Equal(doc.Shards, []string{"all"}) {
				t.Errorf("Shards = %q, want [all]", doc.Shards)
			}
			if doc.APIVersion != "sniproof.dev/v1alpha1" || doc.Kind != "ConformanceReport" {
				t.Errorf("apiVersion %q kind %q", doc.APIVersion, doc.Kind)
			}
			if _, err := time.Parse(time.RFC3339, doc.Date); err != nil {
				t.Errorf("Date %q: %v", doc.Date, err)
			}
			if doc.Records == nil || doc.Profiles == nil {
				t.Error("Records or Profiles is nil, want a list (results.json must not say null)")
			}
		})
	}
}

func checkErrors(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %q, want %d matching %q", what, got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s[%d] = %q, want it to contain %q", what, i, got[i], want[i])
		}
	}
}

// TestCollectNoSuiteFiles pins that a folder without suites/*.json is an
// infrastructure error (exit 3) whatever else it holds: a missing folder,
// an empty suites/ folder, or files that are not suite records.
func TestCollectNoSuiteFiles(t *testing.T) {
	setups := map[string]func(dir string) error{
		"missing folder": func(dir string) error { return os.Remove(dir) },
		"empty suites/":  func(dir string) error { return os.MkdirAll(filepath.Join(dir, "suites"), 0o755) },
		"other files": func(dir string) error {
			if err := os.MkdirAll(filepath.Join(dir, "suites"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "suites", "nginx.yaml"), []byte("{}"), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "results.json"), []byte("{}"), 0o644)
		},
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "reports")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := setup(dir); err != nil {
				t.Fatal(err)
			}
			doc, err := Collect(dir, "2/3")
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if got := doc.ExitCode(); got != ExitInfra {
				t.Errorf("ExitCode = %d, want %d", got, ExitInfra)
			}
			if len(doc.InfraErrors) != 1 || !strings.Contains(doc.InfraErrors[0], "no suite wrote its records") {
				t.Errorf("InfraErrors = %q", doc.InfraErrors)
			}
			if !strings.HasPrefix(doc.Explain(), "infrastructure error: no suite wrote its records") {
				t.Errorf("Explain = %q", doc.Explain())
			}
			if !slices.Equal(doc.Shards, []string{"2/3"}) {
				t.Errorf("Shards = %q, want [2/3]", doc.Shards)
			}
		})
	}
}

// TestCollectGlobCharacters pins that a report folder whose name holds glob
// characters is read literally.
func TestCollectGlobCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run [1] *?")
	if err := WriteSuite(dir, Suite{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Pass)}}); err != nil {
		t.Fatal(err)
	}
	doc, err := Collect(dir, "all")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Summary != (Summary{Passed: 1}) || doc.ExitCode() != ExitPass {
		t.Errorf("Summary = %+v, exit %d, want 1 passed, exit 0", doc.Summary, doc.ExitCode())
	}
}

// TestCollectBadSuiteFile pins that a suite file that is not JSON is an
// error naming the file.
func TestCollectBadSuiteFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "suites"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "suites", "nginx.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Collect(dir, "all")
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("Collect error = %v, want one naming %s", err, bad)
	}
}

// TestBuildSummary pins the counts of every verdict and the summary line
// made from them: an XFAIL counts as passed, an XPASS as failed.
func TestBuildSummary(t *testing.T) {
	verdicts := []string{Pass, Pass, Pass, Fail, Fail, Skip, XFail, XFail, XFail, XFail, XPass}
	var rs []Record
	for i, v := range verdicts {
		rs = append(rs, rec("nginx/a/"+string(rune('a'+i)), "1.22.1", v))
	}
	doc := Build([]Suite{{Suite: "nginx", Records: rs[:5]}, {Suite: "nginx2", Records: rs[5:]}})
	want := Summary{Passed: 3, Failed: 2, Skipped: 1, XFailed: 4, XPassed: 1}
	if doc.Summary != want {
		t.Errorf("Summary = %+v, want %+v", doc.Summary, want)
	}
	if got, want := doc.Summary.Line(), "conformance: 7 passed, 3 failed, 1 skipped"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	if len(doc.Records) != len(verdicts) {
		t.Errorf("%d records, want %d", len(doc.Records), len(verdicts))
	}
}

// TestSummaryLine pins the exact summary line a run ends with.
func TestSummaryLine(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{}, "conformance: 0 passed, 0 failed, 0 skipped"},
		{Summary{Passed: 4}, "conformance: 4 passed, 0 failed, 0 skipped"},
		{Summary{Passed: 1, Failed: 22, Skipped: 333}, "conformance: 1 passed, 22 failed, 333 skipped"},
		{Summary{XFailed: 2}, "conformance: 2 passed, 0 failed, 0 skipped"},
		{Summary{XPassed: 5}, "conformance: 0 passed, 5 failed, 0 skipped"},
		{Summary{Passed: 1, Failed: 2, Skipped: 3, XFailed: 10, XPassed: 20}, "conformance: 11 passed, 22 failed, 3 skipped"},
	}
	for _, tt := range tests {
		if got := tt.s.Line(); got != tt.want {
			t.Errorf("%+v.Line() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestProfiles pins one profile per suite, proxy and version, the matrix's
// suites first, then by proxy and version (in version order), with its
// release, image, statistics and result: success when nothing failed (an
// XFAIL is not a failure), failure when cases ran and nothing passed,
// skipped when none ran, partial otherwise. A record without a suite is
// its suite's.
func TestProfiles(t *testing.T) {
	withImage := func(r Record, release string) Record {
		r.Release, r.Image = release, "sniproof/"+r.Proxy+":"+release
		return r
	}
	rs := []Record{
		withImage(recOn("nginx", "common/a", "1.26.3", Pass), "trixie"),
		withImage(recOn("nginx", "common/b", "1.26.3", Fail), "trixie"),
		withImage(recOn("nginx", "common/a", "1.22.1", Pass), "bookworm"),
		withImage(recOn("nginx", "common/b", "1.22.1", XFail), "bookworm"),
		withImage(recOn("nginx", "common/c", "1.22.1", Skip), "bookworm"),
		withImage(recOn("haproxy", "common/a", "2.6.12", Fail), "bookworm"),
		withImage(recOn("haproxy", "common/b", "2.6.12", XPass), "bookworm"),
		withImage(recOn("caddy", "common/a", "2.6.2", XPass), "bookworm"),
		withImage(recOn("caddy", "common/b", "2.6.2", XFail), "bookworm"),
		withImage(recOn("apache", "common/a", "2.4.62", XFail), "bookworm"),
		withImage(recOn("nginx", "common/a", "1.9.15", Skip), "stretch"),
	}
	checked := rec("check/builtin/common/a", "1.22.1-1~deb12u1", Pass)
	checked.Suite = ""
	doc := Build([]Suite{{Suite: "check", Records: []Record{checked}}, {Suite: "proxies", Records: rs}})
	want := []Profile{
		{Suite: "proxies", Proxy: "apache", Version: "2.4.62", Release: "bookworm", Image: "sniproof/apache:bookworm", Result: Success, Statistics: Summary{XFailed: 1}},
		{Suite: "proxies", Proxy: "caddy", Version: "2.6.2", Release: "bookworm", Image: "sniproof/caddy:bookworm", Result: Partial, Statistics: Summary{XFailed: 1, XPassed: 1}},
		{Suite: "proxies", Proxy: "haproxy", Version: "2.6.12", Release: "bookworm", Image: "sniproof/haproxy:bookworm", Result: Failure, Statistics: Summary{Failed: 1, XPassed: 1}},
		{Suite: "proxies", Proxy: "nginx", Version: "1.9.15", Release: "stretch", Image: "sniproof/nginx:stretch", Result: Skipped, Statistics: Summary{Skipped: 1}},
		{Suite: "proxies", Proxy: "nginx", Version: "1.22.1", Release: "bookworm", Image: "sniproof/nginx:bookworm", Result: Success, Statistics: Summary{Passed: 1, Skipped: 1, XFailed: 1}},
		{Suite: "proxies", Proxy: "nginx", Version: "1.26.3", Release: "trixie", Image: "sniproof/nginx:trixie", Result: Partial, Statistics: Summary{Passed: 1, Failed: 1}},
		{Suite: "check", Proxy: "nginx", Version: "1.22.1-1~deb12u1", Result: Success, Statistics: Summary{Passed: 1}},
	}
	if !reflect.DeepEqual(doc.Profiles, want) {
		t.Errorf("Profiles:\n got %+v\nwant %+v", doc.Profiles, want)
	}
	var sum Summary
	for _, p := range doc.Profiles {
		s := p.Statistics
		sum.Passed += s.Passed
		sum.Failed += s.Failed
		sum.Skipped += s.Skipped
		sum.XFailed += s.XFailed
		sum.XPassed += s.XPassed
	}
	if sum != doc.Summary {
		t.Errorf("profile statistics add up to %+v, summary is %+v", sum, doc.Summary)
	}
}

// TestExitCode pins the exit code of documents built from records and
// suite errors.
func TestExitCode(t *testing.T) {
	tests := []struct {
		name   string
		suites []Suite
		want   int
	}{
		{"all pass", []Suite{{Suite: "s", Records: []Record{rec("n/a", "1", Pass)}}}, ExitPass},
		{"pass and xfail", []Suite{{Suite: "s", Records: []Record{rec("n/a", "1", Pass), rec("n/b", "1", XFail)}}}, ExitPass},
		{"only xfail", []Suite{{Suite: "s", Records: []Record{rec("n/b", "1", XFail)}}}, ExitPass},
		{"pass and skip", []Suite{{Suite: "s", Records: []Record{rec("n/a", "1", Pass), rec("n/b", "1", Skip)}}}, ExitPass},
		{"a failure", []Suite{{Suite: "s", Records: []Record{rec("n/a", "1", Pass), rec("n/b", "1", Fail)}}}, ExitFail},
		{"an xpass", []Suite{{Suite: "s", Records: []Record{rec("n/a", "1", Pass), rec("n/b", "1", XPass)}}}, ExitFail},
		{"only an xpass", []Suite{{Suite: "s", Records: []Record{rec("n/b", "1", XPass)}}}, ExitFail},
		{"setup error, nothing ran", []Suite{{Suite: "s", SetupError: "fixtures/ledger.yaml:3: reason is required"}}, ExitFail},
		{"setup error, passes", []Suite{{Suite: "s", SetupError: "bad table", Records: []Record{rec("n/a", "1", Pass)}}}, ExitFail},
		{"only skips", []Suite{{Suite: "s", Records: []Record{rec("n/a", "1", Skip)}}}, ExitEmpty},
		{"nothing", []Suite{{Suite: "s"}}, ExitEmpty},
		{"no suite", nil, ExitEmpty},
		{"infra error, passes", []Suite{{Suite: "s", InfraError: "no Docker", Records: []Record{rec("n/a", "1", Pass)}}}, ExitInfra},
		{"infra error and xpass and setup error", []Suite{
			{Suite: "s", InfraError: "no Docker"},
			{Suite: "t", SetupError: "bad table", Records: []Record{rec("n/b", "1", XPass)}},
		}, ExitInfra},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := Build(tt.suites)
			if got := doc.ExitCode(); got != tt.want {
				t.Errorf("ExitCode = %d, want %d (%s)", got, tt.want, doc.Explain())
			}
		})
	}
	if ExitPass != 0 || ExitFail != 1 || ExitEmpty != 2 || ExitInfra != 3 {
		t.Errorf("exit codes %d %d %d %d, want 0 1 2 3 as the README documents", ExitPass, ExitFail, ExitEmpty, ExitInfra)
	}
}

// TestExplain pins the one sentence for each exit code; an XPASS names the
// known-issue ledger to edit.
func TestExplain(t *testing.T) {
	tests := []struct {
		doc  Document
		want string
	}{
		{Document{Summary: Summary{Passed: 3}}, "all cases passed"},
		{Document{Summary: Summary{Passed: 3, XFailed: 2}}, "all cases passed, 2 of them failing as the known-issue ledger expects (XFAIL)"},
		{Document{Summary: Summary{Passed: 3, Failed: 2}}, "2 case(s) failed; see reports/matrix.md and reports/index.html"},
		{Document{Summary: Summary{Passed: 3, Failed: 2, XPassed: 1}}, "2 case(s) failed and 1 passed although the known-issue ledger expects them to fail (XPASS: remove their entries from fixtures/ledger.yaml); see reports/matrix.md"},
		{Document{Summary: Summary{Passed: 1}, SetupErrors: []string{"nginx: x", "apache: y"}}, "a suite could not set up: nginx: x; apache: y"},
		{Document{Summary: Summary{Skipped: 4}}, "no case ran: does the label filter, focus or shard select any case?"},
		{Document{Summary: Summary{Failed: 1}, InfraErrors: []string{"nginx: no Docker"}}, "infrastructure error: nginx: no Docker"},
	}
	for _, tt := range tests {
		if got := tt.doc.Explain(); got != tt.want {
			t.Errorf("Explain(%+v) =\n %q\nwant\n %q", tt.doc.Summary, got, tt.want)
		}
	}
	xpass := Document{Summary: Summary{XPassed: 3}}.Explain()
	for _, w := range []string{"XPASS", "3 passed", "fixtures/ledger.yaml"} {
		if !strings.Contains(xpass, w) {
			t.Errorf("Explain of an XPASS = %q, want it to mention %q", xpass, w)
		}
	}
}

// TestMergeDeduplicates pins that Merge keeps one record per key (the
// first), sorts the records and the shards, adds up the suites' errors, and
// computes the summary over the kept records.
func TestMergeDeduplicates(t *testing.T) {
	first := rec("nginx/a/b", "1.22.1", Pass)
	first.Name = "first"
	dup := first
	dup.Name = "second"
	a := Build([]Suite{{Suite: "nginx", Records: []Record{first, rec("nginx/a/c", "1.22.1", Fail)}}})
	a.Shards = []string{"2/2"}
	b := Build([]Suite{{Suite: "nginx", InfraError: "no Docker", Records: []Record{dup, rec("nginx/a/a", "1.22.1", Skip)}}})
	b.Shards = []string{"1/2"}
	m := Merge([]Document{a, b})
	var got []string
	for _, r := range m.Records {
		got = append(got, r.ID+" "+r.Name)
	}
	want := []string{"nginx/a/a nginx/a/a", "nginx/a/b first", "nginx/a/c nginx/a/c"}
	if !slices.Equal(got, want) {
		t.Errorf("records = %q, want %q", got, want)
	}
	if m.Summary != (Summary{Passed: 1, Failed: 1, Skipped: 1}) {
		t.Errorf("Summary = %+v", m.Summary)
	}
	if !slices.Equal(m.Shards, []string{"1/2", "2/2"}) {
		t.Errorf("Shards = %q, want [1/2 2/2]", m.Shards)
	}
	if !slices.Equal(m.InfraErrors, []string{"nginx: no Docker"}) || m.ExitCode() != ExitInfra {
		t.Errorf("InfraErrors = %q, exit %d, want [nginx: no Docker], 3", m.InfraErrors, m.ExitCode())
	}
	if m.APIVersion != APIVersion || m.Kind != Kind || len(m.Profiles) != 1 {
		t.Errorf("apiVersion %q kind %q, %d profiles", m.APIVersion, m.Kind, len(m.Profiles))
	}
	// Merging the same document twice changes nothing but the shards.
	twice := Merge([]Document{a, a})
	if len(twice.Records) != len(a.Records) || twice.Summary != a.Summary {
		t.Errorf("Merge(a, a): %d records %+v, want %d %+v", len(twice.Records), twice.Summary, len(a.Records), a.Summary)
	}
}

// TestLoad pins that Load reads back what Write wrote, and rejects a file
// that is not a results.json: another apiVersion or kind, not JSON, or
// missing; every error names the file.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	doc := Build([]Suite{{Suite: "nginx", Records: []Record{rec("nginx/a/b", "1.22.1", Pass), rec("nginx/a/c", "1.26.3", XPass)}}})
	doc.Shards = []string{"1/2"}
	good := filepath.Join(dir, "results.json")
	if err := writeJSON(good, doc); err != nil {
		t.Fatal(err)
	}
	got, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Summary != doc.Summary || len(got.Records) != 2 || !slices.Equal(got.Shards, doc.Shards) || !reflect.DeepEqual(got.Profiles, doc.Profiles) || got.Date != doc.Date {
		t.Errorf("Load = %+v, want %+v", got, doc)
	}

	write := func(name string, change func(map[string]any)) string {
		data, err := os.ReadFile(good)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		change(raw)
		path := filepath.Join(dir, name)
		if err := writeJSON(path, raw); err != nil {
			t.Fatal(err)
		}
		return path
	}
	notJSON := filepath.Join(dir, "junit.json")
	if err := os.WriteFile(notJSON, []byte("<testsuites/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"apiVersion", write("v1.json", func(m map[string]any) { m["apiVersion"] = "sniproof.dev/v1" }), `apiVersion "sniproof.dev/v1"`},
		{"no apiVersion", write("none.json", func(m map[string]any) { delete(m, "apiVersion") }), `apiVersion ""`},
		{"kind", write("kind.json", func(m map[string]any) { m["kind"] = "SuiteRecords" }), `kind "SuiteRecords"`},
		{"a suite file", write("suite.json", func(m map[string]any) {
			for k := range m {
				delete(m, k)
			}
			m["suite"], m["records"] = "nginx", []any{}
		}), `want "sniproof.dev/v1alpha1" "ConformanceReport"`},
		{"not JSON", notJSON, "invalid character"},
		{"missing", filepath.Join(dir, "absent.json"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path)
			if err == nil {
				t.Fatalf("Load(%s) succeeded", tt.path)
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %q, want it to name %s and contain %q", err, tt.path, tt.want)
			}
		})
	}
}

// TestWriteSuite pins that WriteSuite writes DIR/suites/NAME.json with the
// records sorted by id, proxy and version, so that the file does not depend
// on the order the specs ran in, and that it leaves the caller's slice alone.
func TestWriteSuite(t *testing.T) {
	records := []Record{
		rec("nginx/b/x", "1.26.3", Pass),
		rec("nginx/a/y", "1.26.3", Fail),
		rec("nginx/a/y", "1.22.1", Pass),
		{ID: "nginx/a/y", Proxy: "angie", Version: "1.9.0", Verdict: Pass},
		rec("nginx/a/x", "1.22.1", Skip),
	}
	want := []string{
		"nginx/a/x nginx 1.22.1",
		"nginx/a/y angie 1.9.0",
		"nginx/a/y nginx 1.22.1",
		"nginx/a/y nginx 1.26.3",
		"nginx/b/x nginx 1.26.3",
	}
	var first []byte
	for i, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		dir := t.TempDir()
		var rs []Record
		for _, j := range order {
			rs = append(rs, records[j])
		}
		if err := WriteSuite(dir, Suite{Suite: "nginx", Records: rs}); err != nil {
			t.Fatal(err)
		}
		if rs[0].Key() != records[order[0]].Key() {
			t.Errorf("order %v: WriteSuite reordered the caller's records", order)
		}
		data, err := os.ReadFile(filepath.Join(dir, "suites", "nginx.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s Suite
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range s.Records {
			got = append(got, r.ID+" "+r.Proxy+" "+r.Version)
		}
		if !slices.Equal(got, want) {
			t.Errorf("order %v: records = %q, want %q", order, got, want)
		}
		if i == 0 {
			first = data
		} else if string(data) != string(first) {
			t.Errorf("order %v: file differs from the first order's", order)
		}
	}
}

// TestBuildCaseInfraErrors pins that records kept from being judged by an
// infrastructure error make the run's exit code 3: the first three are
// listed by proxy, version and case id, the rest counted.
func TestBuildCaseInfraErrors(t *testing.T) {
	var rs []Record
	for _, id := range []string{"nginx/a/e", "nginx/a/d", "nginx/a/c", "nginx/a/b", "nginx/a/a"} {
		r := rec(id, "1.26.3", Fail)
		r.InfraError = "container nginx 1.26.3 died"
		rs = append(rs, r)
	}
	rs = append(rs, rec("nginx/a/f", "1.26.3", Pass))
	doc := Build([]Suite{{Suite: "proxies", Records: rs}})
	want := []string{
		"nginx 1.26.3 nginx/a/e: container nginx 1.26.3 died",
		"nginx 1.26.3 nginx/a/d: container nginx 1.26.3 died",
		"nginx 1.26.3 nginx/a/c: container nginx 1.26.3 died",
		"and 2 more case(s) with infrastructure errors",
	}
	if !slices.Equal(doc.InfraErrors, want) {
		t.Errorf("InfraErrors =\n %q\nwant\n %q", doc.InfraErrors, want)
	}
	if doc.ExitCode() != ExitInfra || !strings.HasPrefix(doc.Explain(), "infrastructure error: nginx 1.26.3 nginx/a/e: ") {
		t.Errorf("exit %d (%s), want 3", doc.ExitCode(), doc.Explain())
	}
	if doc.Summary != (Summary{Passed: 1, Failed: 5}) {
		t.Errorf("Summary = %+v", doc.Summary)
	}

	one := Build([]Suite{{Suite: "proxies", InfraError: "start backend: no Docker", Records: rs[:1]}})
	if want := []string{"nginx 1.26.3 nginx/a/e: container nginx 1.26.3 died", "proxies: start backend: no Docker"}; !slices.Equal(one.InfraErrors, want) {
		t.Errorf("InfraErrors = %q, want %q", one.InfraErrors, want)
	}
}
