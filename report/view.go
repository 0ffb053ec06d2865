package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// The suites of the conformance matrix, by the name their records carry;
// every other suite is a self-test of the harness.
const (
	ProxySuite  = "proxies"
	ClientSuite = "clients" // a record's Proxy is the client, the last segment of its id the target
)

// IsSelfTest reports whether suite tests the harness rather than the
// proxies and clients under test.
func IsSelfTest(suite string) bool { return suite != ProxySuite && suite != ClientSuite }

// suiteRank orders suites as the reports show them: the matrix first.
func suiteRank(suite string) int {
	switch suite {
	case ProxySuite:
		return 0
	case ClientSuite:
		return 1
	}
	return 2
}

// CompareVersions orders version strings as people read them: runs of
// digits compare as numbers ("1.26.3" after "1.9.15"), other runs as text,
// and "" (no version: the proxy did not start) last.
func CompareVersions(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, xerr := strconv.ParseUint(pa[i], 10, 64)
		y, yerr := strconv.ParseUint(pb[i], 10, 64)
		if xerr == nil && yerr == nil {
			if x != y {
				return cmpInt(x, y)
			}
			continue
		}
		if c := strings.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	if c := cmpInt(uint64(len(pa)), uint64(len(pb))); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func cmpInt(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// versionParts splits a version into runs of digits and runs of others.
func versionParts(v string) []string {
	var parts []string
	start := 0
	for i := 1; i <= len(v); i++ {
		if i == len(v) || unicode.IsDigit(rune(v[i])) != unicode.IsDigit(rune(v[i-1])) {
			parts = append(parts, v[start:i])
			start = i
		}
	}
	return parts
}

// SuiteProfiles are the profiles of one suite's records, in the reports'
// order: by proxy, then by version.
func (d Document) SuiteProfiles(suite string) []Profile {
	var out []Profile
	for _, p := range d.Profiles {
		if p.Suite == suite {
			out = append(out, p)
		}
	}
	return out
}

// Ran says what ran, suite by suite, in a few words: "proxies: 4 versions
// of 3 proxies, 10 cases; clients: 2 clients × 3 targets, 6 cases;
// self-tests: check 4 cases, reliability 2 cases".
func (d Document) Ran() string {
	count := map[string]int{}
	for _, r := range d.Records {
		count[r.Suite]++
	}
	var parts, self []string
	if n := count[ProxySuite]; n > 0 {
		ps := d.SuiteProfiles(ProxySuite)
		proxies := map[string]bool{}
		for _, p := range ps {
			proxies[p.Proxy] = true
		}
		parts = append(parts, fmt.Sprintf("proxies: %s of %s, %s", plural(len(ps), "version"), plural(len(proxies), "proxy"), plural(n, "case")))
	}
	if n := count[ClientSuite]; n > 0 {
		m := d.ClientMatrix()
		parts = append(parts, fmt.Sprintf("clients: %s × %s, %s", plural(len(m.Rows), "client"), plural(len(m.Columns), "target"), plural(n, "case")))
	}
	for _, s := range d.selfTestSuites() {
		self = append(self, s+" "+plural(count[s], "case"))
	}
	if len(self) > 0 {
		parts = append(parts, "self-tests: "+strings.Join(self, ", "))
	}
	if len(parts) == 0 {
		return "no case"
	}
	return strings.Join(parts, "; ")
}

// plural is "1 case", "2 cases", "2 proxies".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Failed are the cells of the records that failed (FAIL, XPASS), in the
// document's order.
func (d Document) Failed() []Cell {
	var out []Cell
	for i := range d.Records {
		if r := &d.Records[i]; r.Verdict == Fail || r.Verdict == XPass {
			out = append(out, Cell{Record: r, Index: i})
		}
	}
	return out
}

// headlineFailures is how many failures the headline names.
const headlineFailures = 3

// Headline says in one line what ran, what passed and what failed: the
// summary line, what ran (Ran), and the first failures by proxy, version
// and case id.
func (d Document) Headline() string {
	return d.Summary.Line() + " — " + d.Ran() + " — " + d.failedText()
}

func (d Document) failedText() string {
	failed := d.Failed()
	if len(failed) == 0 {
		return "nothing failed"
	}
	var names []string
	for _, c := range failed[:min(len(failed), headlineFailures)] {
		names = append(names, c.Name())
	}
	text := "failed: " + strings.Join(names, ", ")
	if len(failed) > headlineFailures {
		text += fmt.Sprintf(" and %d more", len(failed)-headlineFailures)
	}
	return text
}

// Name names the cell's record in a sentence: "nginx 1.26.3
// common/sni-enabled", with "(XPASS)" for an unexpected pass.
func (c Cell) Name() string {
	r := c.Record
	name := strings.TrimSpace(r.Proxy + " " + r.Version + " " + r.ID)
	if r.Verdict == XPass {
		name += " (XPASS)"
	}
	return name
}

// ReleaseText is the profile's release with the image's packages of the
// proxy, "forky (haproxy 3.2.26-1)", as reports name a version's image.
func (p Profile) ReleaseText() string {
	if len(p.Packages) == 0 {
		return p.Release
	}
	return p.Release + " (" + strings.Join(p.Packages, ", ") + ")"
}

// Upgrade is what changes from one version of a proxy to the next: the
// cases whose verdict, status or SNI differ.
type Upgrade struct {
	Proxy    string
	From, To Profile
	Cases    []Change
}

// Change is one case across an upgrade.
type Change struct {
	ID       string
	From, To *Cell
}

// Why is the reason the case changes: the note of the version override
// in effect on either side (the newer first), which says what that
// version does and cites its source, else the case's own reason.
func (c Change) Why() string {
	for _, cell := range []*Cell{c.To, c.From} {
		if n := cell.Record.Expected.Note; n != "" {
			return n
		}
	}
	return c.To.Record.Evidence.Reason
}

// Upgrades are, for every proxy of the proxies suite with several
// versions, each pair of consecutive versions and the cases that both
// ran and whose verdict, status or SNI differ between them: what an
// operator reads before an upgrade.
func (d Document) Upgrades() []Upgrade {
	var out []Upgrade
	for _, proxy := range d.Proxies() {
		var versions []Profile
		for _, p := range d.SuiteProfiles(ProxySuite) {
			if p.Proxy == proxy && p.Version != "" {
				versions = append(versions, p)
			}
		}
		for i := 1; i < len(versions); i++ {
			u := Upgrade{Proxy: proxy, From: versions[i-1], To: versions[i]}
			from, to := d.cellsOf(u.From), d.cellsOf(u.To)
			for _, id := range sortedKeys(from) {
				if t, ok := to[id]; ok && differ(from[id].Record, t.Record) {
					u.Cases = append(u.Cases, Change{ID: id, From: from[id], To: t})
				}
			}
			out = append(out, u)
		}
	}
	return out
}

// cellsOf are the cells of a profile's records, by case id.
func (d Document) cellsOf(p Profile) map[string]*Cell {
	out := map[string]*Cell{}
	for i := range d.Records {
		r := &d.Records[i]
		if r.Suite == p.Suite && r.Proxy == p.Proxy && r.Version == p.Version {
			out[r.ID] = &Cell{Record: r, Index: i}
		}
	}
	return out
}

func sortedKeys(m map[string]*Cell) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// differ reports whether two records of one case differ in verdict, or,
// both observed, in the client's status or the SNI the backend saw.
func differ(a, b *Record) bool {
	if a.Verdict != b.Verdict {
		return true
	}
	if a.Observed == nil || b.Observed == nil {
		return (a.Observed == nil) != (b.Observed == nil)
	}
	return a.Observed.Status != b.Observed.Status || sniText(a.Observed.SNI) != sniText(b.Observed.SNI)
}

// SelfTest is one self-test suite's records, for a table of its own.
type SelfTest struct {
	Suite   string
	Summary Summary
	Cells   []Cell
}

// selfTestSuites are the suites of the self-tests that have records, in
// name order.
func (d Document) selfTestSuites() []string {
	var out []string
	for _, r := range d.Records {
		if IsSelfTest(r.Suite) && !slices.Contains(out, r.Suite) {
			out = append(out, r.Suite)
		}
	}
	slices.Sort(out)
	return out
}

// SelfTests are the records of every self-test suite, one SelfTest each.
func (d Document) SelfTests() []SelfTest {
	var out []SelfTest
	for _, s := range d.selfTestSuites() {
		st := SelfTest{Suite: s}
		for i := range d.Records {
			if r := &d.Records[i]; r.Suite == s {
				st.Summary.add(r.Verdict)
				st.Cells = append(st.Cells, Cell{Record: r, Index: i})
			}
		}
		out = append(out, st)
	}
	return out
}

// Detail is one proxy of the proxies suite in full: every case it has
// (rows) on each of its versions (columns).
type Detail struct {
	Proxy    string
	Versions []Profile
	Rows     []DetailRow
}

// DetailRow is one case on each version (nil: not run on it).
type DetailRow struct {
	ID, Name string
	Cells    []*Cell
}

// Detail is proxy's detail.
func (d Document) Detail(proxy string) Detail {
	det := Detail{Proxy: proxy}
	for _, p := range d.SuiteProfiles(ProxySuite) {
		if p.Proxy == proxy {
			det.Versions = append(det.Versions, p)
		}
	}
	rows := map[string]*DetailRow{}
	var ids []string
	for i := range d.Records {
		r := &d.Records[i]
		if r.Suite != ProxySuite || r.Proxy != proxy {
			continue
		}
		row, ok := rows[r.ID]
		if !ok {
			row = &DetailRow{ID: r.ID, Name: r.Name, Cells: make([]*Cell, len(det.Versions))}
			rows[r.ID] = row
			ids = append(ids, r.ID)
		}
		for j, v := range det.Versions {
			if v.Version == r.Version {
				row.Cells[j] = &Cell{Record: r, Index: i}
			}
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		det.Rows = append(det.Rows, *rows[id])
	}
	return det
}

// Class is how a profile's statistics are coloured: red (fail) when a case
// failed, grey (skip) when none ran, amber (xfail) when some failed as the
// ledger expects, green (pass) otherwise.
func (p Profile) Class() string {
	s := p.Statistics
	switch {
	case s.Failed+s.XPassed > 0:
		return "fail"
	case s.Passed+s.XFailed == 0:
		return "skip"
	case s.XFailed > 0:
		return "xfail"
	}
	return "pass"
}

// Counts are the profile's statistics in words: "70 passed, 2 skipped".
func (p Profile) Counts() string {
	s := p.Statistics
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{s.Passed, "passed"}, {s.XFailed, "xfail"}, {s.Failed, "failed"}, {s.XPassed, "xpass"}, {s.Skipped, "skipped"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		return "no case"
	}
	return strings.Join(parts, ", ")
}

// VersionText is the version as a table shows it: "—" when the proxy never
// said (it did not start).
func (p Profile) VersionText() string {
	if p.Version == "" {
		return "—"
	}
	return p.Version
}

// Count is the summary in words, as Profile.Counts.
func (s Summary) Count() string { return Profile{Statistics: s}.Counts() }
