// Package suites holds what the Ginkgo suites share: where reports go and how
// a suite's Ginkgo report becomes its records. It registers no Ginkgo node;
// each suite does that itself.
package suites

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
)

// RecordEntry is the name of the report entry that carries a case's record.
const RecordEntry = "sniproof.record"

// ReportDir is where reports go: SNIPROOF_REPORTS, else reports/ at the
// module root.
func ReportDir() (string, error) {
	if d := os.Getenv("SNIPROOF_REPORTS"); d != "" {
		return d, nil
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "reports"), nil
}

// Records collects the records of a suite's specs, each with the verdict
// Ginkgo gave it.
func Records(r types.Report) []report.Record {
	var out []report.Record
	for _, spec := range r.SpecReports {
		for _, e := range spec.ReportEntries {
			rec, ok := e.GetRawValue().(*report.Record)
			if e.Name != RecordEntry || !ok {
				continue
			}
			switch {
			case spec.State.Is(types.SpecStatePassed):
				rec.Verdict = report.Pass
			case spec.State.Is(types.SpecStateSkipped | types.SpecStatePending):
				rec.Verdict = report.Skip
				rec.Failure = spec.Failure.Message
			default:
				rec.Verdict = report.Fail
				rec.Failure = spec.Failure.Message
			}
			out = append(out, *rec)
		}
	}
	return out
}

// Suite is the report of a suite: its records and the error, if any, that
// its setup failed with.
func Suite(name string, r types.Report, setupErr error) report.Suite {
	s := report.Suite{Suite: name, Records: Records(r)}
	switch {
	case setupErr == nil:
	case harness.IsInfra(setupErr):
		s.InfraError = setupErr.Error()
	default:
		s.SetupError = setupErr.Error()
	}
	return s
}

// Wanted returns the kinds, each with only its releases, that have at least
// one case the label filter selects, so that a filtered run starts no
// container it does not need. Focus is not considered.
func Wanted(filter string, ks []harness.Kind, tables map[string][]fixtures.Case) ([]harness.Kind, error) {
	if filter == "" {
		return ks, nil
	}
	match, err := types.ParseLabelFilter(filter)
	if err != nil {
		return nil, fmt.Errorf("label filter %q: %w", filter, err)
	}
	var out []harness.Kind
	for _, k := range ks {
		var rels []string
		for _, rel := range k.Releases {
			for _, c := range tables[k.Name] {
				if match(append([]string{k.Name, rel}, c.Labels...)) {
					rels = append(rels, rel)
					break
				}
			}
		}
		if len(rels) > 0 {
			k.Releases = rels
			out = append(out, k)
		}
	}
	return out, nil
}
