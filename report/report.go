// Package report turns case records into the run's report files and
// decides the run's exit code.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// Versioned identity of results.json.
const (
	APIVersion = "sniproof.dev/v1alpha1"
	Kind       = "ConformanceReport"
)

// Verdicts of a case.
const (
	Pass = "PASS"
	Fail = "FAIL"
	Skip = "SKIP"
)

// Exit codes of a conformance run.
const (
	ExitPass  = 0 // every case that ran passed
	ExitFail  = 1 // at least one case failed
	ExitEmpty = 2 // no case ran
	ExitInfra = 3 // infrastructure error: no Docker, an image build failed, ...
)

// Record is one case on one proxy version: what was expected, what was
// observed, the verdict and the evidence.
type Record struct {
	ID       string               `json:"id"`
	Name     string               `json:"name"`
	Suite    string               `json:"suite"`
	Proxy    string               `json:"proxy"`
	Version  string               `json:"version"`
	Image    string               `json:"image"`
	Expected fixtures.Expect      `json:"expected"`
	Observed *harness.Observation `json:"observed,omitempty"`
	Verdict  string               `json:"verdict"`
	Failure  string               `json:"failure,omitempty"`
	Evidence Evidence             `json:"evidence"`
}

// Evidence is what a person needs to understand one verdict.
type Evidence struct {
	// Reason is why the expectation holds, with its reference.
	Reason string `json:"reason"`
	// Source is the case's file:line.
	Source string `json:"source"`
	// Config is the proxy configuration of this case alone.
	Config string `json:"config,omitempty"`
	// Reproduce is the command that runs this one case.
	Reproduce string `json:"reproduce"`
}

// Suite is what one suite writes: its records, or the error that kept it
// from running them: an infrastructure error (no Docker, an image build
// failed) or a setup error of the project's own (a case table that does not
// load, a template that does not render).
type Suite struct {
	Suite      string   `json:"suite"`
	InfraError string   `json:"infra_error,omitempty"`
	SetupError string   `json:"setup_error,omitempty"`
	Records    []Record `json:"records"`
}

// Document is results.json.
type Document struct {
	APIVersion  string   `json:"apiVersion"`
	Kind        string   `json:"kind"`
	Date        string   `json:"date"`
	Summary     Summary  `json:"summary"`
	InfraErrors []string `json:"infra_errors,omitempty"`
	SetupErrors []string `json:"setup_errors,omitempty"`
	Records     []Record `json:"records"`
}

// Summary counts verdicts.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// Line is the summary as the one plain line a run ends with.
func (s Summary) Line() string {
	return fmt.Sprintf("conformance: %d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}

// WriteSuite writes a suite's records as DIR/suites/NAME.json.
func WriteSuite(dir string, s Suite) error {
	s.Records = append([]Record(nil), s.Records...)
	sort.SliceStable(s.Records, func(i, j int) bool { return s.Records[i].key() < s.Records[j].key() })
	return writeJSON(filepath.Join(dir, "suites", s.Suite+".json"), s)
}

func (r Record) key() string { return r.ID + "\x00" + r.Proxy + "\x00" + r.Version }

// Merge reads every DIR/suites/*.json, writes DIR/results.json and returns
// the document.
func Merge(dir string) (Document, error) {
	doc := Document{APIVersion: APIVersion, Kind: Kind, Date: time.Now().UTC().Format(time.RFC3339), Records: []Record{}}
	files, err := filepath.Glob(filepath.Join(escapeGlob(dir), "suites", "*.json"))
	if err != nil {
		return doc, fmt.Errorf("list suite records: %w", err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		doc.InfraErrors = append(doc.InfraErrors, "no suite wrote its records: the test run ended before (compile error, crash, timeout or interrupt)")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return doc, fmt.Errorf("read %s: %w", f, err)
		}
		var s Suite
		if err := json.Unmarshal(data, &s); err != nil {
			return doc, fmt.Errorf("read %s: %w", f, err)
		}
		if s.InfraError != "" {
			doc.InfraErrors = append(doc.InfraErrors, s.Suite+": "+s.InfraError)
		}
		if s.SetupError != "" {
			doc.SetupErrors = append(doc.SetupErrors, s.Suite+": "+s.SetupError)
		}
		doc.Records = append(doc.Records, s.Records...)
	}
	for _, r := range doc.Records {
		switch r.Verdict {
		case Pass:
			doc.Summary.Passed++
		case Fail:
			doc.Summary.Failed++
		default:
			doc.Summary.Skipped++
		}
	}
	return doc, writeJSON(filepath.Join(dir, "results.json"), doc)
}

// ExitCode is the run's exit code for the document.
func (d Document) ExitCode() int {
	switch {
	case len(d.InfraErrors) > 0:
		return ExitInfra
	case d.Summary.Failed > 0 || len(d.SetupErrors) > 0:
		return ExitFail
	case d.Summary.Passed == 0:
		return ExitEmpty
	}
	return ExitPass
}

// Explain says in one sentence why the run ends with its exit code.
func (d Document) Explain() string {
	switch d.ExitCode() {
	case ExitInfra:
		return "infrastructure error: " + strings.Join(d.InfraErrors, "; ")
	case ExitFail:
		if len(d.SetupErrors) > 0 {
			return "a suite could not set up: " + strings.Join(d.SetupErrors, "; ")
		}
		return fmt.Sprintf("%d case(s) failed; see reports/results.json", d.Summary.Failed)
	case ExitEmpty:
		return "no case ran: does the label filter or focus match any case?"
	}
	return "all cases passed"
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// escapeGlob quotes the pattern characters of a literal path.
func escapeGlob(path string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(path)
}
