package report_test

import (
	"fmt"

	"github.com/sniproof/sniproof/report"
)

// The one plain line every run ends with; an expected failure (XFAIL)
// counts as passed, an unexpected pass (XPASS) as failed.
func ExampleSummary_Line() {
	fmt.Println(report.Summary{Passed: 4}.Line())
	fmt.Println(report.Summary{Passed: 3, XFailed: 1, Failed: 1, XPassed: 2, Skipped: 1}.Line())
	// Output:
	// conformance: 4 passed, 0 failed, 0 skipped
	// conformance: 4 passed, 3 failed, 1 skipped
}

// Exit codes by what the run saw.
func ExampleDocument_ExitCode() {
	for _, d := range []report.Document{
		{Summary: report.Summary{Passed: 2}},
		{Summary: report.Summary{Passed: 2, XFailed: 1}},
		{Summary: report.Summary{Passed: 2, Failed: 1}},
		{Summary: report.Summary{Passed: 2, XPassed: 1}},
		{Summary: report.Summary{Passed: 2}, SetupErrors: []string{"nginx: bad table"}},
		{Summary: report.Summary{Skipped: 2}},
		{InfraErrors: []string{"nginx: no Docker"}},
	} {
		fmt.Println(d.ExitCode(), d.Explain())
	}
	// Output:
	// 0 all cases passed
	// 0 all cases passed, 1 of them failing as the known-issue ledger expects (XFAIL)
	// 1 1 case(s) failed; see reports/matrix.md and reports/index.html
	// 1 0 case(s) failed and 1 passed although the known-issue ledger expects them to fail (XPASS: remove their entries from fixtures/ledger.yaml); see reports/matrix.md
	// 1 a suite could not set up: nginx: bad table
	// 2 no case ran: does the label filter, focus or shard select any case?
	// 3 infrastructure error: nginx: no Docker
}

// Build turns the suites' records into the run's document: its summary and
// one profile per proxy version.
func ExampleBuild() {
	rec := func(id, version, verdict string) report.Record {
		return report.Record{ID: id, Name: id, Proxy: "nginx", Version: version, Verdict: verdict}
	}
	d := report.Build([]report.Suite{{Suite: "proxies", Records: []report.Record{
		rec("common/a", "1.22.1", report.Pass),
		rec("common/b", "1.22.1", report.XFail),
		rec("common/a", "1.26.3", report.Fail),
		rec("common/b", "1.26.3", report.Pass),
	}}})
	fmt.Println(d.Summary.Line())
	for _, p := range d.Profiles {
		fmt.Println(p.Proxy, p.Version, p.Result)
	}
	fmt.Println(d.ExitCode())
	// Output:
	// conformance: 3 passed, 1 failed, 0 skipped
	// nginx 1.22.1 success
	// nginx 1.26.3 partial
	// 1
}
