// Package suites holds what the Ginkgo suites share: where reports go and how
// a suite's Ginkgo report becomes its records. It registers no Ginkgo node;
// each suite does that itself.
package suites

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/fixtures/clients"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
)

// The suites, by folder name. Matrix is the conformance matrix, the
// product (make conformance); SelfTests are the harness's own tests, which
// make test runs too (make selftest alone).
var (
	Matrix    = []string{"proxies", "clients"}
	SelfTests = []string{"check", "reliability"}
)

// Apart are the suites that run in Ginkgo processes of their own, beside
// the others: the check suite, whose specs each start their own backend
// and proxy and mostly wait on them, sharing nothing with the matrix (its
// networks are its own, at the upstreams' addresses).
var Apart = []string{"check"}

// ApartProcs is how many Ginkgo processes a suite of Apart runs its specs
// in. Its checks share nothing but the addresses they impersonate, for
// which a check waits while another holds them (check's takeSubnets).
const ApartProcs = 4

// Lanes are the selected suites as the Ginkgo runs that go at the same
// time: the others in their order, then each suite of Apart alone.
func Lanes(selected []string) [][]string {
	var lanes [][]string
	var rest []string
	for _, s := range selected {
		if slices.Contains(Apart, s) {
			lanes = append(lanes, []string{s})
		} else {
			rest = append(rest, s)
		}
	}
	if len(rest) > 0 {
		lanes = append([][]string{rest}, lanes...)
	}
	return lanes
}

// All are every suite, the matrix first.
func All() []string { return append(slices.Clone(Matrix), SelfTests...) }

// ParseNames parses a comma-separated list of suite names ("all" for
// every suite) into the suites in the order All gives, each once.
func ParseNames(list string) ([]string, error) {
	if list == "all" {
		return All(), nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(All(), n) {
			return nil, fmt.Errorf("unknown suite %q: want a comma-separated list of %s, or all", n, strings.Join(All(), ", "))
		}
		want[n] = true
	}
	var out []string
	for _, n := range All() {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// ProxyTables are the proxy kinds of the proxies suite (every kind the
// harness knows) and their case tables, only the cases of shard. A kind
// whose table does not load is left out; the errors, naming the file and
// line, are returned joined.
func ProxyTables(shard Shard) ([]harness.Kind, map[string][]fixtures.Case, error) {
	var ks []harness.Kind
	var errs []error
	tables := map[string][]fixtures.Case{}
	for _, name := range harness.KindNames() {
		k, err := harness.LookupKind(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := fixtures.Cases(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ks = append(ks, k)
		for _, c := range cs {
			if shard.Has(c.ID) {
				tables[name] = append(tables[name], c)
			}
		}
	}
	return ks, tables, errors.Join(errs...)
}

// ClientRelease is the Debian release of the clients suite's client image
// and of its nginx frontend.
const ClientRelease = "bookworm"

// ClientTable is the clients suite's table, only the cases of shard.
func ClientTable(shard Shard) (*clients.Table, error) {
	ps, err := fixtures.Personalities()
	if err != nil {
		return nil, err
	}
	t, err := clients.Load(harness.OutputFormats, ps)
	if err != nil {
		return nil, err
	}
	var cs []clients.Case
	for _, c := range t.Cases {
		if shard.Has(c.ID) {
			cs = append(cs, c)
		}
	}
	t.Cases = cs
	return t, nil
}

// ClientLabels are a client case's labels: "clients" and its client's name.
func ClientLabels(c clients.Case) []string { return []string{"clients", c.Client} }

// WantedClients are the clients with a case the label filter selects, and
// whether one of those cases is aimed at the frontend, so that a filtered
// run sets up nothing it does not need.
func WantedClients(filter string, t *clients.Table) (map[string]bool, bool, error) {
	match := func([]string) bool { return true }
	if filter != "" {
		var err error
		if match, err = types.ParseLabelFilter(filter); err != nil {
			return nil, false, fmt.Errorf("label filter %q: %w", filter, err)
		}
	}
	names, needFront := map[string]bool{}, false
	for _, c := range t.Cases {
		if match(ClientLabels(c)) {
			names[c.Client] = true
			needFront = needFront || t.Target(c.Target).Server == clients.ServerFront
		}
	}
	return names, needFront, nil
}

// checkKinds are the proxies the check suite runs, on each of their
// releases.
var checkKinds = []string{"nginx", "haproxy"}

// Images are the Debian images that the named suites use under the label
// filter and shard, each once: what a run builds before its first suite
// starts. The focus is not considered; the reliability suite's runs are
// runs of their own, which build their own. A case table that does not
// load adds no image: its suite reports it.
func Images(names []string, filter string, shard Shard) ([]harness.Recipe, error) {
	var out []harness.Recipe
	add := func(image, release string) error {
		r, err := harness.LoadRecipe(image, release)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(out, func(o harness.Recipe) bool { return o.Image == image && o.Release == release }) {
			out = append(out, r)
		}
		return nil
	}
	for _, name := range names {
		var err error
		switch name {
		case "proxies":
			err = proxyImages(filter, shard, add)
		case "clients":
			err = clientImages(filter, shard, add)
		case "check":
			err = checkImages(add)
		}
		if err != nil {
			return nil, fmt.Errorf("images of the %s suite: %w", name, err)
		}
	}
	return out, nil
}

func proxyImages(filter string, shard Shard, add func(image, release string) error) error {
	ks, tables, _ := ProxyTables(shard)
	wanted, err := Wanted(filter, ks, tables)
	if err != nil {
		return err
	}
	for _, k := range wanted {
		if k.Image == "" {
			continue // the sniproof binary's image
		}
		for _, rel := range k.Releases {
			if err := add(k.Image, rel); err != nil {
				return err
			}
		}
	}
	return nil
}

func clientImages(filter string, shard Shard, add func(image, release string) error) error {
	t, err := ClientTable(shard)
	if err != nil {
		return nil // the suite reports a table that does not load
	}
	names, needFront, err := WantedClients(filter, t)
	if err != nil || len(names) == 0 {
		return err
	}
	if needFront {
		k, err := harness.LookupKind("nginx")
		if err != nil {
			return err
		}
		if err := add(k.Image, ClientRelease); err != nil {
			return err
		}
	}
	return add("clients", ClientRelease)
}

func checkImages(add func(image, release string) error) error {
	for _, name := range checkKinds {
		k, err := harness.LookupKind(name)
		if err != nil {
			return err
		}
		for _, rel := range k.Releases {
			if err := add(k.Image, rel); err != nil {
				return err
			}
		}
	}
	return nil
}

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
			if e.Name != RecordEntry {
				continue
			}
			rec, ok := e.GetRawValue().(*report.Record)
			if !ok {
				// From another parallel process: the value came as JSON.
				rec = &report.Record{}
				if json.Unmarshal([]byte(e.Value.AsJSON), rec) != nil {
					continue
				}
			}
			rec.Verdict = Verdict(spec.State, rec)
			if rec.Verdict != report.Pass && rec.Verdict != report.XFail {
				rec.Failure = spec.Failure.Message
			}
			out = append(out, *rec)
		}
	}
	return out
}

// InfraText is the text of err for Record.InfraError: any error that kept
// a case from being judged is the infrastructure's, not the proxy's.
func InfraText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Suite is the report of a suite: its records and the error, if any, that
// its setup failed with, setupErr or one a spec recorded with SetupFailed.
func Suite(name string, r types.Report, setupErr error) report.Suite {
	s := report.Suite{Suite: name, Records: Records(r)}
	switch {
	case setupErr == nil:
	case harness.IsInfra(setupErr):
		s.InfraError = setupErr.Error()
	default:
		s.SetupError = setupErr.Error()
	}
	for _, spec := range r.SpecReports {
		for _, e := range spec.ReportEntries {
			switch e.Name {
			case infraEntry:
				s.InfraError = cmp.Or(s.InfraError, e.Value.String())
			case setupEntry:
				s.SetupError = cmp.Or(s.SetupError, e.Value.String())
			case startsEntry:
				n, _ := strconv.Atoi(e.Value.String())
				s.ContainerStarts += n
			}
		}
	}
	return s
}

// The report entries by which a suite whose specs run in parallel
// processes passes, through Ginkgo's report, what its records need.
const (
	infraEntry  = "sniproof: infrastructure error"
	setupEntry  = "sniproof: setup error"
	startsEntry = "sniproof: containers started"
)

// SetupFailed records, in the running spec's report, err as the error
// the suite's setup failed with.
func SetupFailed(err error) {
	name := setupEntry
	if harness.IsInfra(err) {
		name = infraEntry
	}
	ginkgo.AddReportEntry(name, err.Error(), ginkgo.ReportEntryVisibilityNever)
}

// Started records, in the running spec's report, that n containers were
// started for it.
func Started(n int) {
	ginkgo.AddReportEntry(startsEntry, strconv.Itoa(n), ginkgo.ReportEntryVisibilityNever)
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

// Verdict is a record's verdict given its spec's state: a listed case
// (rec.Ledger) that passes its spec failed as expected (XFAIL); one whose
// spec fails because the judge found no difference passed unexpectedly
// (XPASS).
func Verdict(state types.SpecState, rec *report.Record) string {
	switch {
	case state.Is(types.SpecStateSkipped | types.SpecStatePending):
		return report.Skip
	case state.Is(types.SpecStatePassed) && rec.Ledger != "":
		return report.XFail
	case state.Is(types.SpecStatePassed):
		return report.Pass
	case rec.Ledger != "" && rec.Judged && len(rec.Differences) == 0:
		return report.XPass
	}
	return report.Fail
}

// Shard is the share of the cases a run takes: case I of every N, chosen
// by a hash of the case id, so that the split is stable as cases are added
// and a case id lands in the same shard for every proxy.
type Shard struct{ I, N int }

// ParseShard parses "i/n" (1 <= i <= n); "" is the whole run.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{1, 1}, nil
	}
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.I, &sh.N); err != nil || sh.N < 1 || sh.I < 1 || sh.I > sh.N ||
		fmt.Sprintf("%d/%d", sh.I, sh.N) != s {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 1 <= i <= n, e.g. 1/4", s)
	}
	return sh, nil
}

// Has reports whether the case id belongs to the shard.
func (s Shard) Has(id string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()%uint32(s.N)) == s.I-1
}

// String is "i/n", or "all" for the whole run.
func (s Shard) String() string {
	if s.N <= 1 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Progress prints how many specs are done, at most every tenth of the run
// (and every 25 specs at the most often) and at its end,
// so that a long run shows it is alive without flooding the log. In a
// Ginkgo process of a parallel run, whose output the Ginkgo CLI keeps to
// itself, it prints nothing: it counts each spec in the file ProgressEnv
// names, from which the run's parent prints the run's progress.
type Progress struct {
	w                  io.Writer
	quiet              bool
	total, done, fails int
	next               int
	// counts is the file of a parallel run's counts, or "".
	counts string
	// parallel is whether this is a process of a parallel run, known once
	// the suite runs (a Progress made at init sees Ginkgo's defaults).
	parallel sync.Once
}

// ProgressEnv names the file in which the Ginkgo processes of a parallel
// run count their finished specs, a byte each: '.', or 'F' for a failed
// one (see CountProgress).
const ProgressEnv = "SNIPROOF_PROGRESS"

// NewProgress reports to w; a quiet Progress prints nothing.
func NewProgress(w io.Writer, quiet bool) *Progress { return &Progress{w: w, quiet: quiet} }

// Start sets the number of specs the run will do.
func (p *Progress) Start(total int) {
	p.total, p.next = total, max(total/10, 25)
}

// Done counts one finished spec.
func (p *Progress) Done(failed bool) {
	p.parallel.Do(func() {
		if suite, _ := ginkgo.GinkgoConfiguration(); suite.ParallelTotal > 1 {
			p.counts, p.quiet = os.Getenv(ProgressEnv), true
		}
	})
	if p.counts != "" {
		mark := []byte{'.'}
		if failed {
			mark[0] = 'F'
		}
		if f, err := os.OpenFile(p.counts, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			f.Write(mark)
			f.Close()
		}
	}
	p.done++
	if failed {
		p.fails++
	}
	if p.quiet || p.total == 0 || (p.done < p.next && p.done != p.total) {
		return
	}
	for p.next <= p.done {
		p.next += max(p.total/10, 25)
	}
	fmt.Fprintf(p.w, "\nsniproof: %d/%d specs done, %d failed\n", p.done, p.total, p.fails)
}

// CountProgress feeds p, every interval until stop is closed (and once
// more then), the specs counted in the file ProgressEnv names since it
// last looked.
func CountProgress(p *Progress, file string, interval time.Duration, stop <-chan struct{}) {
	seen := 0
	look := func() {
		data, err := os.ReadFile(file)
		if err != nil {
			return
		}
		for _, b := range data[min(seen, len(data)):] {
			p.Done(b == 'F')
		}
		seen = len(data)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			look()
			return
		case <-t.C:
			look()
		}
	}
}

// Run tracks one suite's run: its progress lines and whether a spec failed.
// A suite registers its own report nodes and calls these methods from them.
type Run struct {
	progress *Progress
	failed   atomic.Bool
}

// NewRun reports progress on stderr, unless SNIPROOF_QUIET=1.
func NewRun() *Run {
	return &Run{progress: NewProgress(os.Stderr, os.Getenv("SNIPROOF_QUIET") == "1")}
}

// Start is for ReportBeforeSuite: it learns how many specs will run.
func (r *Run) Start(rep types.Report) { r.progress.Start(rep.PreRunStats.SpecsThatWillRun) }

// SpecDone is for ReportAfterEach: it counts a spec that ran.
func (r *Run) SpecDone(s types.SpecReport) {
	if s.State.Is(types.SpecStateSkipped | types.SpecStatePending) {
		return
	}
	if s.Failed() {
		r.failed.Store(true)
	}
	r.progress.Done(s.Failed())
}

// Close removes the stack's containers and networks, unless SNIPROOF_KEEP=1
// and a spec failed: then it keeps them and prints how to reach them, the
// reach lines included.
func (r *Run) Close(ctx context.Context, stack *harness.Stack, reach ...string) error {
	if stack == nil || stack.Session == nil {
		return nil
	}
	if os.Getenv("SNIPROOF_KEEP") != "1" || !r.failed.Load() {
		return stack.Close(ctx)
	}
	id := stack.Session.ID
	fmt.Fprintf(os.Stderr, "sniproof: SNIPROOF_KEEP=1: kept the containers of session %s:\n"+
		"  docker ps --filter label=%s=%s\n  remove them with: bin/sniproof sweep --session %s\n", id, harness.LabelSession, id, id)
	if stack.Backend != nil {
		fmt.Fprintf(os.Stderr, "  backend: docker logs %.12s (one JSON line per event)\n", stack.Backend.GetContainerID())
	}
	for _, l := range reach {
		fmt.Fprintf(os.Stderr, "  %s\n", l)
	}
	return nil
}

// Write writes the suite's records for ReportAfterSuite: setupErr, else
// loadErr (a table that does not load fails the run even when the label
// filter leaves out the spec that reports it), and the containers started.
func Write(name string, rep types.Report, setupErr, loadErr error, starts int) error {
	dir, err := ReportDir()
	if err != nil {
		return err
	}
	if setupErr == nil {
		setupErr = loadErr
	}
	s := Suite(name, rep, setupErr)
	s.ContainerStarts += starts
	return report.WriteSuite(dir, s)
}
