package report_test

import (
	"fmt"

	"github.com/sniproof/sniproof/report"
)

// The one plain line every run ends with.
func ExampleSummary_Line() {
	fmt.Println(report.Summary{Passed: 4}.Line())
	// Output: conformance: 4 passed, 0 failed, 0 skipped
}

// Exit codes by what the run saw.
func ExampleDocument_ExitCode() {
	for _, d := range []report.Document{
		{Summary: report.Summary{Passed: 2}},
		{Summary: report.Summary{Passed: 2, Failed: 1}},
		{Summary: report.Summary{Passed: 2}, SetupErrors: []string{"nginx: bad table"}},
		{Summary: report.Summary{Skipped: 2}},
		{InfraErrors: []string{"nginx: no Docker"}},
	} {
		fmt.Println(d.ExitCode(), d.Explain())
	}
	// Output:
	// 0 all cases passed
	// 1 1 case(s) failed; see reports/results.json
	// 1 a suite could not set up: nginx: bad table
	// 2 no case ran: does the label filter or focus match any case?
	// 3 infrastructure error: nginx: no Docker
}
