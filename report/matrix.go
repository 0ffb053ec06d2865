package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// CommonPrefix marks the case ids every proxy has, the columns of the
// comparison matrix.
const CommonPrefix = "common/"

// Cell is one record as a matrix shows it.
type Cell struct {
	Record *Record
	// Index is the record's position in the document, for links to its
	// evidence.
	Index int
}

// Mark is the verdict as one symbol.
func (c Cell) Mark() string {
	switch c.Record.Verdict {
	case Pass:
		return "✅"
	case XFail:
		return "⚠️"
	case Skip:
		return "⏭"
	}
	return "❌"
}

// Symbol is the verdict as one character that common fonts have.
func (c Cell) Symbol() string {
	switch c.Record.Verdict {
	case Pass:
		return "✓"
	case XFail:
		return "≈"
	case Skip:
		return "–"
	}
	return "✗"
}

// Outcome is what happened, in a few words: the status (or config
// error) and the SNI the backend saw; for a skipped case, why.
func (c Cell) Outcome() string {
	o := c.Record.Observed
	switch {
	case c.Record.Verdict == Skip:
		return "skipped: " + c.Record.SkipReason()
	case o == nil:
		return verdictWords[c.Record.Verdict]
	case o.ConfigTest != nil:
		return fmt.Sprintf("refused config (exit %d)", o.ConfigTest.Exit)
	}
	status := fmt.Sprint(o.Status)
	if o.Status == 0 {
		status = "no response"
	}
	return status + " · SNI " + sniText(o.SNI)
}

// verdictWords are the verdicts in words, for a record with no observation
// to show (a self-test, or a case its proxy never ran).
var verdictWords = map[string]string{Pass: "passed", Fail: "failed", XFail: "failed as expected", XPass: "passed unexpectedly"}

// Title is the cell's tooltip: the case id and name, and why it was
// skipped.
func (c Cell) Title() string {
	t := c.Record.ID + ": " + c.Record.Name
	if c.Record.Verdict == Skip {
		t += " — skipped: " + c.Record.SkipReason()
	}
	return t
}

// Short is Outcome cut to a matrix cell's width.
func (c Cell) Short() string {
	const width = 60
	out := c.Outcome()
	if r := []rune(out); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return out
}

// SkipReason is why a skipped case did not run: the first line of its
// skip message, or "not run" without one.
func (r Record) SkipReason() string {
	reason := strings.TrimSpace(strings.TrimPrefix(firstLine(r.Failure), "skipped:"))
	if reason == "" {
		return "not run"
	}
	return reason
}

// Matrix is profiles (rows) × case ids (columns).
type Matrix struct {
	Columns []string
	Rows    []MatrixRow
}

// MatrixRow is one proxy version's cells, one per column (nil: no such case).
// First says it is the first row of its proxy, which spans Span rows.
type MatrixRow struct {
	Profile Profile
	Cells   []*Cell
	First   bool
	Span    int
}

// Comparison is the matrix of the common cases across every proxy version
// of the proxies suite, each proxy's versions side by side.
func (d Document) Comparison() Matrix {
	m := d.matrix(func(r *Record) bool { return r.Suite == ProxySuite && strings.HasPrefix(r.ID, CommonPrefix) },
		d.SuiteProfiles(ProxySuite), func(r *Record) string { return r.ID })
	for i := range m.Rows {
		row := &m.Rows[i]
		row.First, row.Span = i == 0 || m.Rows[i-1].Profile.Proxy != row.Profile.Proxy, 0
		for j := i; row.First && j < len(m.Rows) && m.Rows[j].Profile.Proxy == row.Profile.Proxy; j++ {
			row.Span++
		}
	}
	return m
}

// ClientMatrix is the client compatibility matrix: every client version
// (rows) × every target (columns).
func (d Document) ClientMatrix() Matrix {
	return d.matrix(func(r *Record) bool { return r.Suite == ClientSuite }, d.SuiteProfiles(ClientSuite),
		func(r *Record) string { return r.ID[strings.LastIndexByte(r.ID, '/')+1:] })
}

// Proxies are the proxies of the proxies suite, sorted.
func (d Document) Proxies() []string {
	var out []string
	for _, p := range d.SuiteProfiles(ProxySuite) {
		if !slices.Contains(out, p.Proxy) {
			out = append(out, p.Proxy)
		}
	}
	sort.Strings(out)
	return out
}

// matrix makes the matrix of the records keep selects: a row per profile
// that has one, a column per column name.
func (d Document) matrix(keep func(*Record) bool, profiles []Profile, column func(*Record) string) Matrix {
	var m Matrix
	cells := map[string]*Cell{}
	rows := map[string]bool{}
	for i := range d.Records {
		r := &d.Records[i]
		if !keep(r) {
			continue
		}
		col := column(r)
		if !slices.Contains(m.Columns, col) {
			m.Columns = append(m.Columns, col)
		}
		cells[r.Proxy+"\x00"+r.Version+"\x00"+col] = &Cell{Record: r, Index: i}
		rows[r.Proxy+"\x00"+r.Version] = true
	}
	sort.Strings(m.Columns)
	for _, p := range profiles {
		if !rows[p.Proxy+"\x00"+p.Version] {
			continue
		}
		row := MatrixRow{Profile: p, First: true, Span: 1}
		for _, col := range m.Columns {
			row.Cells = append(row.Cells, cells[p.Proxy+"\x00"+p.Version+"\x00"+col])
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// Markdown renders matrix.md: the headline, the proxies' comparison
// matrix, the upgrades, the clients × targets matrix, the self-tests, each
// proxy in detail, and the failures with the commands that rerun them.
func Markdown(d Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# sniproof conformance\n\n`%s` — %s — %s\n\n%s · %s · %s · shards %s\n\n",
		d.Summary.Line(), d.Ran(), d.failedText(), d.Explain(), d.SuiteVersion, d.Date, strings.Join(d.Shards, ", "))
	for _, e := range d.InfraErrors {
		fmt.Fprintf(&b, "**Infrastructure error:** %s\n\n", mdCell(e))
	}
	for _, e := range d.SetupErrors {
		fmt.Fprintf(&b, "**Setup error:** %s\n\n", mdCell(e))
	}
	if m := d.Comparison(); len(m.Rows) > 0 || len(d.Unsupported) > 0 {
		b.WriteString("## Proxies: the common cases\n\nEach cell: verdict, the client's status, and the SNI the backend saw (`none`: no SNI was sent).\n\n")
		b.WriteString("| proxy | version | release | cases |")
		for _, c := range m.Columns {
			fmt.Fprintf(&b, " `%s` |", strings.TrimPrefix(c, CommonPrefix))
		}
		b.WriteString("\n|---|---|---|---|" + strings.Repeat("---|", len(m.Columns)) + "\n")
		for _, row := range m.Rows {
			proxy := ""
			if row.First {
				proxy = row.Profile.Proxy
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |", proxy, row.Profile.VersionText(), row.Profile.ReleaseText(), row.Profile.Counts())
			writeMarkdownCells(&b, row.Cells)
		}
		for _, u := range d.Unsupported {
			sni := ""
			if u.SNI != "" {
				sni = "; SNI: " + mdCell(u.SNI)
			}
			fmt.Fprintf(&b, "| %s | %s | — | not supported: %s%s |%s\n", u.Proxy, u.Version, mdCell(u.Reason), sni, strings.Repeat(" — |", len(m.Columns)))
		}
	}
	if ups := d.Upgrades(); len(ups) > 0 {
		b.WriteString("\n## Upgrades: the cases that change from one version to the next\n")
		for _, u := range ups {
			fmt.Fprintf(&b, "\n### %s %s → %s\n\n", u.Proxy, u.From.Version, u.To.Version)
			if len(u.Cases) == 0 {
				b.WriteString("No case differs in verdict, status or SNI.\n")
				continue
			}
			fmt.Fprintf(&b, "| case | %s | %s | why |\n|---|---|---|---|\n", u.From.Version, u.To.Version)
			for _, c := range u.Cases {
				fmt.Fprintf(&b, "| `%s` |", c.ID)
				for _, cell := range []*Cell{c.From, c.To} {
					fmt.Fprintf(&b, " %s %s |", cell.Mark(), mdCell(cell.Outcome()))
				}
				fmt.Fprintf(&b, " %s |\n", mdCell(c.Why()))
			}
		}
	}
	if m := d.ClientMatrix(); len(m.Rows) > 0 {
		b.WriteString("\n## Clients × targets\n\nEach cell: verdict, the HTTP status (0: the client failed; its exit status is in the evidence), and the SNI the server saw.\n\n")
		b.WriteString("| client | version |")
		for _, c := range m.Columns {
			fmt.Fprintf(&b, " `%s` |", c)
		}
		b.WriteString("\n|---|---|" + strings.Repeat("---|", len(m.Columns)) + "\n")
		for _, row := range m.Rows {
			fmt.Fprintf(&b, "| %s | %s |", row.Profile.Proxy, row.Profile.VersionText())
			writeMarkdownCells(&b, row.Cells)
		}
	}
	if sts := d.SelfTests(); len(sts) > 0 {
		b.WriteString("\n## Self-tests of the harness\n")
		for _, st := range sts {
			fmt.Fprintf(&b, "\n### %s: %s\n\n", st.Suite, st.Summary.Count())
			var rest []Cell
			for _, c := range st.Cells {
				if c.Record.Verdict != Pass {
					rest = append(rest, c)
				}
			}
			if len(rest) == 0 {
				b.WriteString("Every case passed.\n")
				continue
			}
			b.WriteString("Every case not listed passed.\n\n| case | on | verdict |\n|---|---|---|\n")
			for _, c := range rest {
				fmt.Fprintf(&b, "| `%s` | %s |", c.Record.ID, mdCell(strings.TrimSpace(c.Record.Proxy+" "+c.Record.Version)))
				writeMarkdownCells(&b, []*Cell{&c})
			}
		}
	}
	if proxies := d.Proxies(); len(proxies) > 0 {
		b.WriteString("\n## Each proxy in detail\n")
		for _, p := range proxies {
			det := d.Detail(p)
			fmt.Fprintf(&b, "\n### %s\n\n| case |", p)
			for _, v := range det.Versions {
				fmt.Fprintf(&b, " %s |", v.VersionText())
			}
			b.WriteString("\n|---|" + strings.Repeat("---|", len(det.Versions)) + "\n")
			for _, row := range det.Rows {
				fmt.Fprintf(&b, "| `%s` |", row.ID)
				writeMarkdownCells(&b, row.Cells)
			}
		}
	}
	if failed := d.Failed(); len(failed) > 0 {
		b.WriteString("\n## Failures\n")
		for _, c := range failed {
			r := c.Record
			fmt.Fprintf(&b, "\n### %s %s: `%s` (%s)\n\n%s\n\n", r.Proxy, r.Version, r.ID, r.Verdict, r.Name)
			for _, diff := range r.Differences {
				fmt.Fprintf(&b, "- %s\n", mdCell(diff))
			}
			if len(r.Differences) == 0 && r.Failure != "" {
				fmt.Fprintf(&b, "- %s\n", mdCell(firstLine(r.Failure)))
			}
			fmt.Fprintf(&b, "\nReproduce: `%s`\n", r.Evidence.Reproduce)
		}
	}
	return b.String()
}

// writeMarkdownCells ends a table row with cells: the verdict's mark and
// the outcome, "—" for none.
func writeMarkdownCells(b *strings.Builder, cells []*Cell) {
	for _, c := range cells {
		if c == nil {
			b.WriteString(" — |")
			continue
		}
		fmt.Fprintf(b, " %s %s |", c.Mark(), mdCell(c.Outcome()))
	}
	b.WriteString("\n")
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
