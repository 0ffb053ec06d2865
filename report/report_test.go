package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// rec is a record with just what Merge and WriteSuite look at.
func rec(id, version, verdict string) Record {
	return Record{ID: id, Name: id, Suite: "nginx", Proxy: "nginx", Version: version, Verdict: verdict}
}

// TestMerge pins how Merge sums up the suites' files: the counts, the errors
// it collects, and the run's exit code (0 all pass, 1 a failure or a setup
// error, 2 nothing passed and nothing failed, 3 an infrastructure error or
// no suite file at all).
func TestMerge(t *testing.T) {
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
			name: "suites merge in file name order",
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
				t.Fatalf("Merge: %v", err)
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

			// results.json is the same document, with its identity.
			data, err := os.ReadFile(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatalf("results.json: %v", err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatalf("results.json: %v", err)
			}
			if string(raw["apiVersion"]) != `"sniproof.dev/v1alpha1"` || string(raw["kind"]) != `"ConformanceReport"` {
				t.Errorf("results.json apiVersion = %s, kind = %s", raw["apiVersion"], raw["kind"])
			}
			if recs := strings.TrimSpace(string(raw["records"])); strings.HasPrefix(recs, "null") {
				t.Error("results.json records is null, want a list")
			}
			var written Document
			if err := json.Unmarshal(data, &written); err != nil {
				t.Fatal(err)
			}
			if written.Summary != doc.Summary || len(written.Records) != len(doc.Records) || written.ExitCode() != tt.wantExit {
				t.Errorf("results.json summary %+v with %d records, want %+v with %d", written.Summary, len(written.Records), doc.Summary, len(doc.Records))
			}
			if _, err := time.Parse(time.RFC3339, written.Date); err != nil {
				t.Errorf("results.json date %q: %v", written.Date, err)
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

// TestMergeBadSuiteFile pins that a suite file that is not JSON is an error
// naming the file.
func TestMergeBadSuiteFile(t *testing.T) {
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
		t.Fatalf("Merge error = %v, want one naming %s", err, bad)
	}
}

// TestExplain pins the one sentence for each exit code.
func TestExplain(t *testing.T) {
	tests := []struct {
		doc  Document
		want string
	}{
		{Document{Summary: Summary{Passed: 3}}, "all cases passed"},
		{Document{Summary: Summary{Passed: 3, Failed: 2}}, "2 case(s) failed; see reports/results.json"},
		{Document{Summary: Summary{Passed: 1}, SetupErrors: []string{"nginx: x", "apache: y"}}, "a suite could not set up: nginx: x; apache: y"},
		{Document{Summary: Summary{Skipped: 4}}, "no case ran: does the label filter or focus match any case?"},
		{Document{Summary: Summary{Failed: 1}, InfraErrors: []string{"nginx: no Docker"}}, "infrastructure error: nginx: no Docker"},
	}
	for _, tt := range tests {
		if got := tt.doc.Explain(); got != tt.want {
			t.Errorf("Explain(%+v) = %q, want %q", tt.doc, got, tt.want)
		}
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
	}
	for _, tt := range tests {
		if got := tt.s.Line(); got != tt.want {
			t.Errorf("Line() = %q, want %q", got, tt.want)
		}
	}
}

// TestWriteSuite pins that WriteSuite writes DIR/suites/NAME.json with the
// records sorted by id, proxy and version, so that the file does not depend
// on the order the specs ran in.
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
