// Package report turns case records into the run's report files
// (results.json, junit.xml, matrix.md, index.html) and decides the run's
// exit code.
package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/redact"
)

// Versioned identity of results.json; results.schema.json describes it.
const (
	APIVersion = "sniproof.dev/v1alpha1"
	Kind       = "ConformanceReport"
)

// Verdicts of a case.
const (
	Pass  = "PASS"
	Fail  = "FAIL"
	Skip  = "SKIP"
	XFail = "XFAIL" // failed as the known-issue ledger expects
	XPass = "XPASS" // passed although the ledger expects it to fail: the ledger is stale
)

// Results of a proxy version (a profile), as in conformance reports.
const (
	Success = "success" // every case that ran passed (or failed as the ledger expects)
	Partial = "partial" // some cases failed
	Failure = "failure" // cases ran and none passed
	Skipped = "skipped" // no case ran: every one was skipped
)

// Exit codes of a conformance run.
const (
	ExitPass  = 0 // every case that ran passed
	ExitFail  = 1 // a case failed, an XPASS, or a suite could not set up
	ExitEmpty = 2 // no case ran
	ExitInfra = 3 // infrastructure error: no Docker, an image build failed, ...
)

// Record is one case on one proxy version: what was expected, what was
// observed, the verdict and the evidence.
type Record struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Suite   string `json:"suite"`
	Proxy   string `json:"proxy"`
	Version string `json:"version"`
	Release string `json:"release"`
	Image   string `json:"image"`
	// Packages are the Debian packages of the proxy in the image, "NAME
	// VERSION" (haproxy 3.2.26-1), as dpkg reports them in the container:
	// not redacted, as no configuration wrote them (passwd is a package).
	Packages []string             `json:"packages,omitempty" redact:"-"`
	Expected fixtures.Expect      `json:"expected"`
	Observed *harness.Observation `json:"observed,omitempty"`
	Verdict  string               `json:"verdict"`
	// Differences are the judge's: every way the observation differs from
	// the expectation. Judged says the judge ran (no infrastructure error).
	Differences []string `json:"differences,omitempty"`
	Judged      bool     `json:"judged"`
	// Ledger is the known-issue ledger's reason, when the case is listed.
	Ledger string `json:"ledger,omitempty"`
	// InfraError is the infrastructure error that kept the case from being
	// judged: its proxy did not start, a container died, Docker failed.
	InfraError string   `json:"infraError,omitempty"`
	Failure    string   `json:"failure,omitempty"`
	Evidence   Evidence `json:"evidence"`
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

// Key identifies a record within a run.
func (r Record) Key() string { return r.ID + "\x00" + r.Proxy + "\x00" + r.Version }

// Suite is what one suite writes: its records, or the error that kept it
// from running them: an infrastructure error (no Docker, an image build
// failed) or a setup error of the project's own (a case table that does not
// load, a template that does not render).
type Suite struct {
	Suite      string `json:"suite"`
	InfraError string `json:"infra_error,omitempty"`
	SetupError string `json:"setup_error,omitempty"`
	// ContainerStarts counts the containers the suite started.
	ContainerStarts int      `json:"container_starts"`
	Records         []Record `json:"records"`
}

// Document is results.json.
type Document struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// SuiteVersion is the sniproof build that ran the cases.
	SuiteVersion string `json:"suiteVersion"`
	Date         string `json:"date"`
	// Shards lists the shards merged into the document ("1/2"), or "all".
	Shards []string `json:"shards"`
	// ContainerStarts counts the containers the run started.
	ContainerStarts int       `json:"containerStarts"`
	Summary         Summary   `json:"summary"`
	Profiles        []Profile `json:"profiles"`
	// Unsupported are proxies that cannot take part, with the reason.
	Unsupported []fixtures.Unsupported `json:"unsupported,omitempty"`
	InfraErrors []string               `json:"infraErrors,omitempty"`
	SetupErrors []string               `json:"setupErrors,omitempty"`
	Records     []Record               `json:"records"`
}

// Profile is one proxy version (or client version) of one suite and how it
// fared. A proxy version has one profile per suite that ran it.
type Profile struct {
	Suite   string `json:"suite"`
	Proxy   string `json:"proxy"`
	Version string `json:"version"`
	Release string `json:"release"`
	Image   string `json:"image"`
	// Packages are the image's packages of the proxy, "NAME VERSION".
	Packages   []string `json:"packages,omitempty" redact:"-"`
	Result     string   `json:"result"`
	Statistics Summary  `json:"statistics"`
}

// Summary counts verdicts.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	XFailed int `json:"xfailed"`
	XPassed int `json:"xpassed"`
}

func (s *Summary) add(verdict string) {
	switch verdict {
	case Pass:
		s.Passed++
	case Fail:
		s.Failed++
	case XFail:
		s.XFailed++
	case XPass:
		s.XPassed++
	default:
		s.Skipped++
	}
}

// Line is the summary as the one plain line a run ends with. An expected
// failure counts as passed, an unexpected pass as failed.
func (s Summary) Line() string {
	return fmt.Sprintf("conformance: %d passed, %d failed, %d skipped", s.Passed+s.XFailed, s.Failed+s.XPassed, s.Skipped)
}

// WriteSuite writes a suite's records as DIR/suites/NAME.json, redacted
// (redact.Copy) as every report is.
func WriteSuite(dir string, s Suite) error {
	s = redact.Copy(s)
	sortRecords(s.Records)
	return writeJSON(filepath.Join(dir, "suites", s.Suite+".json"), s)
}

func sortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Key() < rs[j].Key() })
}

// Collect reads every DIR/suites/*.json into one document for shard (e.g.
// "1/2", or "all").
func Collect(dir, shard string) (Document, error) {
	var suites []Suite
	files, err := filepath.Glob(filepath.Join(escapeGlob(dir), "suites", "*.json"))
	if err != nil {
		return Document{}, fmt.Errorf("list suite records: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		var s Suite
		if err := readJSON(f, &s); err != nil {
			return Document{}, err
		}
		suites = append(suites, s)
	}
	doc := Build(suites)
	doc.Shards = []string{shard}
	if len(files) == 0 {
		doc.InfraErrors = append(doc.InfraErrors, "no suite wrote its records: the test run ended before (compile error, crash, timeout or interrupt)")
	}
	return doc, nil
}

// Build makes the document of a run from its suites' records.
func Build(suites []Suite) Document {
	doc := Document{APIVersion: APIVersion, Kind: Kind, SuiteVersion: suiteVersion(),
		Date: time.Now().UTC().Format(time.RFC3339), Shards: []string{"all"}, Records: []Record{}, Profiles: []Profile{}}
	infraCases := 0
	for _, s := range suites {
		for _, r := range s.Records {
			if r.InfraError == "" {
				continue
			}
			if infraCases++; infraCases <= 3 {
				doc.InfraErrors = append(doc.InfraErrors, fmt.Sprintf("%s %s %s: %s", r.Proxy, r.Version, r.ID, r.InfraError))
			}
		}
		if s.InfraError != "" {
			doc.InfraErrors = append(doc.InfraErrors, s.Suite+": "+s.InfraError)
		}
		if s.SetupError != "" {
			doc.SetupErrors = append(doc.SetupErrors, s.Suite+": "+s.SetupError)
		}
		for _, r := range s.Records {
			if r.Suite == "" {
				r.Suite = s.Suite
			}
			doc.Records = append(doc.Records, r)
		}
		doc.ContainerStarts += s.ContainerStarts
	}
	if infraCases > 3 {
		doc.InfraErrors = append(doc.InfraErrors, fmt.Sprintf("and %d more case(s) with infrastructure errors", infraCases-3))
	}
	doc.finish()
	return doc
}

// Merge combines the documents of several shards of one run.
func Merge(docs []Document) Document {
	out := Document{APIVersion: APIVersion, Kind: Kind, SuiteVersion: suiteVersion(),
		Date: time.Now().UTC().Format(time.RFC3339), Shards: []string{}, Records: []Record{}}
	seen := map[string]bool{}
	for _, d := range docs {
		out.Shards = append(out.Shards, d.Shards...)
		out.InfraErrors = append(out.InfraErrors, d.InfraErrors...)
		out.SetupErrors = append(out.SetupErrors, d.SetupErrors...)
		out.ContainerStarts += d.ContainerStarts
		if len(out.Unsupported) == 0 {
			out.Unsupported = d.Unsupported
		}
		for _, r := range d.Records {
			if !seen[r.Key()] {
				seen[r.Key()] = true
				out.Records = append(out.Records, r)
			}
		}
	}
	sort.Strings(out.Shards)
	out.finish()
	return out
}

// finish sorts the records and computes the summary and the profiles:
// one per suite, proxy and version, the matrix's suites first, each
// proxy's versions in version order.
func (d *Document) finish() {
	sortRecords(d.Records)
	d.Summary = Summary{}
	byProfile := map[string]*Profile{}
	for _, r := range d.Records {
		d.Summary.add(r.Verdict)
		key := r.Suite + "\x00" + r.Proxy + "\x00" + r.Version
		p, ok := byProfile[key]
		if !ok {
			p = &Profile{Suite: r.Suite, Proxy: r.Proxy, Version: r.Version, Release: r.Release, Image: r.Image, Packages: r.Packages}
			byProfile[key] = p
		}
		if p.Image == "" {
			p.Release, p.Image = r.Release, r.Image
		}
		if p.Packages == nil {
			p.Packages = r.Packages
		}
		p.Statistics.add(r.Verdict)
	}
	d.Profiles = []Profile{}
	for _, p := range byProfile {
		s := p.Statistics
		switch {
		case s.Passed+s.XFailed+s.Failed+s.XPassed == 0:
			p.Result = Skipped
		case s.Passed+s.XFailed == 0:
			p.Result = Failure
		case s.Failed+s.XPassed == 0:
			p.Result = Success
		default:
			p.Result = Partial
		}
		d.Profiles = append(d.Profiles, *p)
	}
	slices.SortFunc(d.Profiles, func(a, b Profile) int {
		return cmp.Or(cmp.Compare(suiteRank(a.Suite), suiteRank(b.Suite)), strings.Compare(a.Suite, b.Suite),
			strings.Compare(a.Proxy, b.Proxy), CompareVersions(a.Version, b.Version))
	})
}

// ExitCode is the run's exit code for the document.
func (d Document) ExitCode() int {
	switch {
	case len(d.InfraErrors) > 0:
		return ExitInfra
	case d.Summary.Failed+d.Summary.XPassed > 0 || len(d.SetupErrors) > 0:
		return ExitFail
	case d.Summary.Passed+d.Summary.XFailed == 0:
		return ExitEmpty
	}
	return ExitPass
}

// Explain says in one sentence why the run ends with its exit code.
func (d Document) Explain() string {
	s := d.Summary
	switch d.ExitCode() {
	case ExitInfra:
		return "infrastructure error: " + strings.Join(d.InfraErrors, "; ")
	case ExitFail:
		if len(d.SetupErrors) > 0 {
			return "a suite could not set up: " + strings.Join(d.SetupErrors, "; ")
		}
		if s.XPassed > 0 {
			return fmt.Sprintf("%d case(s) failed and %d passed although the known-issue ledger expects them to fail (XPASS: remove their entries from fixtures/ledger.yaml); see reports/matrix.md", s.Failed, s.XPassed)
		}
		return fmt.Sprintf("%d case(s) failed; see reports/matrix.md and reports/index.html", s.Failed)
	case ExitEmpty:
		return "no case ran: does the label filter, focus or shard select any case?"
	}
	if s.XFailed > 0 {
		return fmt.Sprintf("all cases passed, %d of them failing as the known-issue ledger expects (XFAIL)", s.XFailed)
	}
	return "all cases passed"
}

// suiteVersion names the sniproof build: its VCS revision when known.
func suiteVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "sniproof (unknown build)"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return "sniproof " + info.Main.Version
	case dirty:
		return "sniproof " + rev[:min(12, len(rev))] + "+modified"
	}
	return "sniproof " + rev[:min(12, len(rev))]
}

// Load reads a results.json.
func Load(path string) (Document, error) {
	var d Document
	if err := readJSON(path, &d); err != nil {
		return d, err
	}
	if d.APIVersion != APIVersion || d.Kind != Kind {
		return d, fmt.Errorf("%s: apiVersion %q kind %q, want %q %q", path, d.APIVersion, d.Kind, APIVersion, Kind)
	}
	return d, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return writeFile(path, append(data, '\n'))
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// escapeGlob quotes the pattern characters of a literal path.
func escapeGlob(path string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(path)
}
