package report_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// manyRecords is the sample run plus generated cases on two nginx
// versions, with every verdict, so that every shard of a split has records.
func manyRecords() []report.Record {
	rs := sampleRecords()
	verdicts := []string{report.Pass, report.Fail, report.Skip, report.XFail, report.XPass, report.Pass, report.Pass}
	for i := range 40 {
		for j, v := range []string{"1.22.1", "1.26.3"} {
			rs = append(rs, report.Record{ID: fmt.Sprintf("nginx/gen/case-%02d", i), Name: "generated", Suite: "proxies",
				Proxy: "nginx", Version: v, Release: []string{"bookworm", "trixie"}[j], Verdict: verdicts[(i+j)%len(verdicts)],
				Evidence: report.Evidence{Reproduce: "make conformance"}})
		}
	}
	return rs
}

// jsonOf encodes v for comparisons that must hold after a round trip.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestMergeShards pins that the shards of a run, each collected from its
// own report folder, written as results.json and loaded again, merge into
// the document of the whole run: the same records with the same verdicts,
// the same summary and profiles, and both shards listed. A record both
// shards hold (a case rerun) appears once.
func TestMergeShards(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "") // Write must not append to a CI job's summary
	all := manyRecords()
	whole := report.Build([]report.Suite{{Suite: "proxies", Records: all}})

	var docs []report.Document
	for i := 1; i <= 2; i++ {
		sh := suites.Shard{I: i, N: 2}
		var part []report.Record
		for _, r := range all {
			if sh.Has(r.ID) {
				part = append(part, r)
			}
		}
		if len(part) == 0 || len(part) == len(all) {
			t.Fatalf("shard %s has %d of %d records: the split does not exercise a merge", sh, len(part), len(all))
		}
		if i == 2 {
			// A record of shard 1 that shard 2 ran too.
			for _, r := range all {
				if !sh.Has(r.ID) {
					part = append(part, r)
					break
				}
			}
		}
		dir := t.TempDir()
		if err := report.WriteSuite(dir, report.Suite{Suite: "proxies", Records: part}); err != nil {
			t.Fatal(err)
		}
		d, err := report.Collect(dir, sh.String())
		if err != nil {
			t.Fatal(err)
		}
		if err := report.Write(dir, d); err != nil {
			t.Fatal(err)
		}
		loaded, err := report.Load(filepath.Join(dir, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, loaded)
	}
	// The order the shard files are named in does not matter.
	merged := report.Merge([]report.Document{docs[1], docs[0]})

	if !slices.Equal(merged.Shards, []string{"1/2", "2/2"}) {
		t.Errorf("Shards = %q, want [1/2 2/2]", merged.Shards)
	}
	if len(merged.Records) != len(whole.Records) {
		t.Fatalf("%d records, want %d", len(merged.Records), len(whole.Records))
	}
	for i := range whole.Records {
		if got, want := jsonOf(t, merged.Records[i]), jsonOf(t, whole.Records[i]); got != want {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if merged.Summary != whole.Summary {
		t.Errorf("Summary = %+v, want %+v", merged.Summary, whole.Summary)
	}
	if !reflect.DeepEqual(merged.Profiles, whole.Profiles) {
		t.Errorf("Profiles:\n got %+v\nwant %+v", merged.Profiles, whole.Profiles)
	}
	if merged.ExitCode() != whole.ExitCode() || merged.ExitCode() != report.ExitFail {
		t.Errorf("ExitCode = %d, whole run's %d, want %d", merged.ExitCode(), whole.ExitCode(), report.ExitFail)
	}
	if len(merged.InfraErrors)+len(merged.SetupErrors) != 0 {
		t.Errorf("errors %q %q, want none", merged.InfraErrors, merged.SetupErrors)
	}
}

// TestMergeSample pins the merged sample run's counts, so that the shard
// comparison above cannot pass over empty documents.
func TestMergeSample(t *testing.T) {
	d := report.Merge([]report.Document{sampleDoc()})
	want := report.Summary{Passed: 4, Failed: 3, Skipped: 1, XFailed: 1, XPassed: 1}
	if d.Summary != want {
		t.Errorf("Summary = %+v, want %+v", d.Summary, want)
	}
	if got := d.Summary.Line(); got != "conformance: 5 passed, 4 failed, 1 skipped" {
		t.Errorf("Line = %q", got)
	}
	var got []string
	for _, r := range d.Records {
		got = append(got, describe(r))
	}
	if !slices.Equal(got, sampleIDs) {
		t.Errorf("records:\n got %q\nwant %q", got, sampleIDs)
	}
	var profiles []string
	for _, p := range d.Profiles {
		profiles = append(profiles, p.Proxy+" "+p.Version+" "+p.Result)
	}
	wantProfiles := []string{"h2o 2.2.6 partial", "haproxy 2.6.12 failure", "nginx 1.22.1 success", "nginx 1.26.3 partial"}
	if !slices.Equal(profiles, wantProfiles) {
		t.Errorf("profiles = %q, want %q", profiles, wantProfiles)
	}
}
