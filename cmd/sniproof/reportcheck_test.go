package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/report"
)

// TestPageProblems pins what sniproof report check finds wrong in the DOM
// Chromium renders: red in a passing run, a failed case without its red
// cell, a link to evidence the page lacks, evidence that does not open
// when followed, and the summary line missing.
func TestPageProblems(t *testing.T) {
	rec := func(id, verdict string) report.Record {
		return report.Record{ID: id, Name: id, Suite: "proxies", Proxy: "nginx", Version: "1.22.1", Verdict: verdict}
	}
	passing := report.Build([]report.Suite{{Suite: "proxies", Records: []report.Record{rec("common/a", report.Pass), rec("common/b", report.Skip)}},
		{Suite: "check", Records: []report.Record{{ID: "check/x", Name: "x", Proxy: "haproxy", Verdict: report.Skip, Failure: "skipped: not here"}}}})
	failing := report.Build([]report.Suite{{Suite: "proxies", Records: []report.Record{rec("common/a", report.Pass), rec("common/b", report.Fail)}}})
	// dom is the page as Chromium shows it with #ev-N followed.
	dom := func(d report.Document, n int) string {
		page, err := report.HTML(d)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Replace(string(page), fmt.Sprintf(`<details id="ev-%d" class="%s">`, n, strings.ToLower(d.Records[n].Verdict)),
			fmt.Sprintf(`<details id="ev-%d" class="%s" open="">`, n, strings.ToLower(d.Records[n].Verdict)), 1)
	}
	fail := failing.Failed()[0].Index
	tests := []struct {
		name   string
		doc    report.Document
		dom    string
		target int
		want   []string
	}{
		{"passing", passing, dom(passing, 0), 0, nil},
		{"failing", failing, dom(failing, fail), fail, nil},
		{"red in a passing run", passing, strings.Replace(dom(passing, 0), `class="cell pass"`, `class="cell fail"`, 1), 0,
			[]string{`nothing failed, but 1 element(s) of the page are red, e.g. class="cell fail"`}},
		{"a failed case without red", failing, strings.ReplaceAll(dom(failing, fail), `data-verdict="FAIL"`, `data-verdict="PASS"`), fail,
			[]string{"no red cell linking to the evidence of common/b on nginx 1.22.1"}},
		{"a link to no evidence", passing, strings.Replace(dom(passing, 0), `<details id="ev-1"`, `<details id="gone"`, 1), 0,
			[]string{"a cell links to #ev-1, but the page has no such evidence"}},
		{"evidence that does not open", failing, dom(failing, 0), fail, []string{fmt.Sprintf("following the link to #ev-%d does not open its evidence", fail)}},
		{"no summary line", passing, strings.ReplaceAll(dom(passing, 0), passing.Summary.Line(), "conformance"), 0,
			[]string{`the page does not show "conformance: 1 passed, 0 failed, 2 skipped"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pageProblems(tt.doc, tt.dom, tt.target); !slices.Equal(got, tt.want) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
