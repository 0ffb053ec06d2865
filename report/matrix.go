package report

import (
	"fmt"
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

// Outcome is what happened, in a few words: the status (or config error)
// and the SNI the backend saw.
func (c Cell) Outcome() string {
	o := c.Record.Observed
	switch {
	case o == nil:
		return "not run"
	case o.ConfigTest != nil:
		return fmt.Sprintf("refused config (exit %d)", o.ConfigTest.Exit)
	}
	status := fmt.Sprint(o.Status)
	if o.Status == 0 {
		status = "no response"
	}
	return status + " · SNI " + sniText(o.SNI)
}

// Matrix is profiles (rows) × case ids (columns).
type Matrix struct {
	Columns []string
	Rows    []MatrixRow
}

// MatrixRow is one proxy version's cells, one per column (nil: no such case).
type MatrixRow struct {
	Profile Profile
	Cells   []*Cell
}

// Comparison is the matrix of the common cases across every proxy version.
func (d Document) Comparison() Matrix {
	return d.matrix(func(r *Record) bool { return strings.HasPrefix(r.ID, CommonPrefix) }, d.Profiles)
}

// ClientSuite is the suite whose records are clients × targets: the
// record's Proxy is the client, the last segment of its id the target.
const ClientSuite = "clients"

// ClientMatrix is the client compatibility matrix: every client version
// (rows) × every target (columns).
func (d Document) ClientMatrix() Matrix {
	var m Matrix
	cols := map[string]bool{}
	cells := map[string]*Cell{}
	var profiles []Profile
	seen := map[string]bool{}
	for i := range d.Records {
		r := &d.Records[i]
		if r.Suite != ClientSuite {
			continue
		}
		target := r.ID[strings.LastIndexByte(r.ID, '/')+1:]
		if !cols[target] {
			cols[target] = true
			m.Columns = append(m.Columns, target)
		}
		cells[r.Proxy+"\x00"+r.Version+"\x00"+target] = &Cell{Record: r, Index: i}
		if key := r.Proxy + "\x00" + r.Version; !seen[key] {
			seen[key] = true
			for _, p := range d.Profiles {
				if p.Proxy == r.Proxy && p.Version == r.Version {
					profiles = append(profiles, p)
				}
			}
		}
	}
	sort.Strings(m.Columns)
	for _, p := range profiles {
		row := MatrixRow{Profile: p}
		for _, t := range m.Columns {
			row.Cells = append(row.Cells, cells[p.Proxy+"\x00"+p.Version+"\x00"+t])
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// ProxyMatrix is one proxy's own matrix: its versions × all its cases.
func (d Document) ProxyMatrix(proxy string) Matrix {
	var ps []Profile
	for _, p := range d.Profiles {
		if p.Proxy == proxy {
			ps = append(ps, p)
		}
	}
	return d.matrix(func(r *Record) bool { return r.Proxy == proxy }, ps)
}

// Proxies are the proxies of the document, sorted; the clients of the
// client suite are not proxies.
func (d Document) Proxies() []string {
	clients := map[string]bool{}
	for _, r := range d.Records {
		if r.Suite == ClientSuite {
			clients[r.Proxy] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range d.Profiles {
		if !seen[p.Proxy] && !clients[p.Proxy] {
			seen[p.Proxy] = true
			out = append(out, p.Proxy)
		}
	}
	sort.Strings(out)
	return out
}

func (d Document) matrix(keep func(*Record) bool, profiles []Profile) Matrix {
	var m Matrix
	cols := map[string]int{}
	cells := map[string]*Cell{}
	for i := range d.Records {
		r := &d.Records[i]
		if !keep(r) {
			continue
		}
		if _, ok := cols[r.ID]; !ok {
			cols[r.ID] = 0
			m.Columns = append(m.Columns, r.ID)
		}
		cells[r.Proxy+"\x00"+r.Version+"\x00"+r.ID] = &Cell{Record: r, Index: i}
	}
	sort.Strings(m.Columns)
	for _, p := range profiles {
		row := MatrixRow{Profile: p}
		for _, id := range m.Columns {
			row.Cells = append(row.Cells, cells[p.Proxy+"\x00"+p.Version+"\x00"+id])
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// Markdown renders the summary, the comparison matrix and the failures.
func Markdown(d Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# sniproof conformance\n\n`%s` · %s · %s · shards %s\n\n",
		d.Summary.Line(), d.SuiteVersion, d.Date, strings.Join(d.Shards, ", "))
	for _, e := range d.InfraErrors {
		fmt.Fprintf(&b, "**Infrastructure error:** %s\n\n", mdCell(e))
	}
	for _, e := range d.SetupErrors {
		fmt.Fprintf(&b, "**Setup error:** %s\n\n", mdCell(e))
	}
	b.WriteString("## Proxies under test\n\n| proxy | version | release | result | passed | failed | xfail | xpass | skipped | image |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range d.Profiles {
		s := p.Statistics
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %d | %d | `%s` |\n",
			p.Proxy, p.Version, p.Release, p.Result, s.Passed, s.Failed, s.XFailed, s.XPassed, s.Skipped, p.Image)
	}
	if len(d.Unsupported) > 0 {
		b.WriteString("\n## Unsupported proxies\n\n| proxy | version | why | evidence |\n|---|---|---|---|\n")
		for _, u := range d.Unsupported {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", u.Proxy, u.Version, mdCell(u.Reason), mdCell(u.Evidence))
		}
	}
	if m := d.Comparison(); len(m.Columns) > 0 {
		b.WriteString("\n## Comparison: what each proxy does in the same case\n\nEach cell: verdict, the client's status, and the SNI the backend saw (`none`: no SNI was sent).\n\n")
		writeMarkdownMatrix(&b, m)
	}
	if m := d.ClientMatrix(); len(m.Columns) > 0 {
		b.WriteString("\n## Clients × targets\n\nEach cell: verdict, the HTTP status (0: the client failed; its exit status is in the evidence), and the SNI the server saw.\n\n")
		writeMarkdownMatrix(&b, m)
	}
	var failed []Record
	for _, r := range d.Records {
		if r.Verdict == Fail || r.Verdict == XPass {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		b.WriteString("\n## Failures\n")
		for _, r := range failed {
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

func writeMarkdownMatrix(b *strings.Builder, m Matrix) {
	b.WriteString("| proxy |")
	for _, c := range m.Columns {
		fmt.Fprintf(b, " `%s` |", strings.TrimPrefix(c, CommonPrefix))
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(m.Columns)) + "\n")
	for _, row := range m.Rows {
		fmt.Fprintf(b, "| %s %s |", row.Profile.Proxy, row.Profile.Version)
		for _, c := range row.Cells {
			if c == nil {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(b, " %s %s |", c.Mark(), mdCell(c.Outcome()))
		}
		b.WriteString("\n")
	}
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
