package report_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
)

// section is the part of md from the heading that starts with head up to
// the next "## " heading.
func section(t *testing.T, md, head string) string {
	t.Helper()
	_, rest, ok := strings.Cut(md, "\n"+head)
	if !ok {
		t.Fatalf("no section %q in:\n%s", head, md)
	}
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return head + rest
}

// tableRows are the lines of s that are table rows.
func tableRows(s string) []string {
	var rows []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "|") {
			rows = append(rows, l)
		}
	}
	return rows
}

// TestMarkdownSample pins matrix.md of the sample run: the summary line
// first, the profiles table, the comparison matrix over the common/ case
// ids only (one row per proxy version, "—" for a case a proxy does not
// have, each cell the verdict, status and SNI: "none" for "", "(no
// ClientHello)" for nil), and a Failures section for FAIL and XPASS only,
// with the differences and the command that reproduces the case.
func TestMarkdownSample(t *testing.T) {
	d := sampleDoc()
	md := report.Markdown(d)

	if first := strings.SplitN(md, "\n", 4); first[0] != "# sniproof conformance" || !strings.HasPrefix(first[2], "`conformance: 5 passed, 4 failed, 1 skipped` · ") || !strings.HasSuffix(first[2], " · shards all") {
		t.Errorf("head of matrix.md:\n%s", strings.Join(first[:3], "\n"))
	}

	profiles := tableRows(section(t, md, "## Proxies under test"))
	wantProfiles := []string{
		"| proxy | version | release | result | passed | failed | xfail | xpass | skipped | image |",
		"|---|---|---|---|---|---|---|---|---|---|",
		"| h2o | 2.2.6 | bookworm | partial | 1 | 0 | 1 | 1 | 0 | `sniproof/h2o:bookworm-fedcba987654` |",
		"| haproxy | 2.6.12 | bookworm | failure | 0 | 1 | 0 | 0 | 0 | `sniproof/haproxy:bookworm-aaaaaaaaaaaa` |",
		"| nginx | 1.22.1 | bookworm | success | 2 | 0 | 0 | 0 | 1 | `sniproof/nginx:bookworm-0123456789ab` |",
		"| nginx | 1.26.3 | trixie | partial | 1 | 2 | 0 | 0 | 0 | `sniproof/nginx:trixie-0123456789ab` |",
	}
	if !slices.Equal(profiles, wantProfiles) {
		t.Errorf("profiles table:\n%s\nwant\n%s", strings.Join(profiles, "\n"), strings.Join(wantProfiles, "\n"))
	}

	comparison := section(t, md, "## Comparison")
	matrix := tableRows(comparison)
	wantMatrix := []string{
		"| proxy | `default-hostname` | `ip-default` | `sni-enabled` |",
		"|---|---|---|---|",
		"| h2o 2.2.6 | ⚠️ 200 · SNI www.xx.test | ❌ 502 · SNI none | — |",
		"| haproxy 2.6.12 | — | — | ❌ 503 · SNI (no ClientHello) |",
		"| nginx 1.22.1 | ✅ 502 · SNI none | — | ✅ 200 · SNI www.xx.test |",
		"| nginx 1.26.3 | ❌ 200 · SNI www.xx.test | — | ✅ 200 · SNI www.xx.test |",
	}
	if !slices.Equal(matrix, wantMatrix) {
		t.Errorf("comparison matrix:\n%s\nwant\n%s", strings.Join(matrix, "\n"), strings.Join(wantMatrix, "\n"))
	}
	for _, own := range []string{"hang-off", "no-server-name", "config/refused"} {
		if strings.Contains(comparison, own) {
			t.Errorf("the comparison matrix shows the proxy's own case %q", own)
		}
	}

	failures := section(t, md, "## Failures")
	var heads []string
	for _, l := range strings.Split(failures, "\n") {
		if strings.HasPrefix(l, "### ") {
			heads = append(heads, l)
		}
	}
	wantHeads := []string{
		"### nginx 1.26.3: `common/default-hostname` (FAIL)",
		"### h2o 2.2.6: `common/ip-default` (XPASS)",
		"### haproxy 2.6.12: `common/sni-enabled` (FAIL)",
		"### nginx 1.26.3: `nginx/refusal/hang-off` (FAIL)",
	}
	if !slices.Equal(heads, wantHeads) {
		t.Errorf("failures:\n%s\nwant\n%s", strings.Join(heads, "\n"), strings.Join(wantHeads, "\n"))
	}
	for _, r := range d.Records {
		if r.Verdict != report.Fail && r.Verdict != report.XPass {
			continue
		}
		for _, diff := range r.Differences {
			if !strings.Contains(failures, "\n- "+diff+"\n") {
				t.Errorf("%s: Failures lacks the difference %q", describe(r), diff)
			}
		}
		if !strings.Contains(failures, "\nReproduce: `"+r.Evidence.Reproduce+"`\n") {
			t.Errorf("%s: Failures lacks the reproduce command %q", describe(r), r.Evidence.Reproduce)
		}
	}
	// A failure the judge never saw shows the first line of its message.
	if !strings.Contains(failures, "\n- synchronise with nginx 1.26.3: the mark did not reach the backend\n") || strings.Contains(failures, "within 10s") {
		t.Errorf("Failures does not show the first line of an unjudged failure:\n%s", failures)
	}
}

// TestMarkdownAllPass pins that a run without FAIL or XPASS has no
// Failures section (an XFAIL and a skip are no failures), and that a run
// without common/ cases has no comparison matrix.
func TestMarkdownAllPass(t *testing.T) {
	var rs []report.Record
	for _, r := range sampleRecords() {
		switch r.Verdict {
		case report.Pass, report.XFail, report.Skip:
			rs = append(rs, r)
		}
	}
	d := report.Build([]report.Suite{{Suite: "proxies", Records: rs}})
	md := report.Markdown(d)
	if strings.Contains(md, "Failures") || strings.Contains(md, "Reproduce:") {
		t.Errorf("an all-pass run has a Failures section:\n%s", md)
	}
	if !strings.Contains(md, "`conformance: 5 passed, 0 failed, 1 skipped`") || !strings.Contains(md, "## Comparison") {
		t.Errorf("matrix.md lacks the summary or the comparison:\n%s", md)
	}

	var own []report.Record
	for _, r := range rs {
		if !strings.HasPrefix(r.ID, "common/") {
			own = append(own, r)
		}
	}
	md = report.Markdown(report.Build([]report.Suite{{Suite: "proxies", Records: own}}))
	if strings.Contains(md, "## Comparison") {
		t.Errorf("a run without common/ cases has a comparison matrix:\n%s", md)
	}
	if !strings.Contains(md, "## Proxies under test") {
		t.Errorf("matrix.md lacks the profiles:\n%s", md)
	}
}

// TestMarkdownEscapes pins that text inside a table cell cannot break the
// table: a "|" is escaped and a newline becomes a space; and that suite
// errors are shown.
func TestMarkdownEscapes(t *testing.T) {
	sni := "evil|sni\nname"
	r := sampleRecords()[4] // common/sni-enabled on nginx 1.26.3, PASS
	if r.ID != "common/sni-enabled" || r.Verdict != report.Pass {
		t.Fatalf("sample changed: %s", describe(r))
	}
	r.Observed = &harness.Observation{Status: 200, Backend: "served", SNI: &sni}
	f := r
	f.Version, f.Verdict, f.Differences = "1.27.0", report.Fail, []string{"SNI \"a|b\", want\nnone"}
	d := report.Build([]report.Suite{
		{Suite: "proxies", Records: []report.Record{r, f}},
		{Suite: "other", InfraError: "build image: a|b"},
		{Suite: "third", SetupError: "fixtures/x.yaml:3: bad | worse"},
	})
	md := report.Markdown(d)
	rows := tableRows(section(t, md, "## Comparison"))
	if len(rows) != 4 {
		t.Fatalf("comparison has %d rows, want 4:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	want := "| nginx 1.26.3 | ✅ 200 · SNI evil\\|sni name |"
	if rows[2] != want {
		t.Errorf("row = %q, want %q", rows[2], want)
	}
	for _, row := range rows {
		if n := strings.Count(row, "|") - strings.Count(row, `\|`); n != 3 {
			t.Errorf("row %q has %d cell separators, want 3", row, n)
		}
	}
	for _, w := range []string{
		"- SNI \"a\\|b\", want none\n",
		"**Infrastructure error:** other: build image: a\\|b",
		"**Setup error:** third: fixtures/x.yaml:3: bad \\| worse",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("matrix.md lacks %q:\n%s", w, md)
		}
	}
}

// TestCell pins how one record shows in a matrix: its mark, its symbol and
// its outcome in a few words.
func TestCell(t *testing.T) {
	none, name := "", "www.xx.test"
	tests := []struct {
		verdict      string
		obs          *harness.Observation
		mark, symbol string
		outcome      string
	}{
		{report.Pass, &harness.Observation{Status: 200, SNI: &name}, "✅", "✓", "200 · SNI www.xx.test"},
		{report.Fail, &harness.Observation{Status: 502, SNI: &none}, "❌", "✗", "502 · SNI none"},
		{report.XPass, &harness.Observation{Status: 0, SNI: nil}, "❌", "✗", "no response · SNI (no ClientHello)"},
		{report.XFail, &harness.Observation{ConfigTest: &harness.ConfigTest{Exit: 1}}, "⚠️", "≈", "refused config (exit 1)"},
		{report.Skip, nil, "⏭", "–", "not run"},
	}
	for _, tt := range tests {
		c := report.Cell{Record: &report.Record{Verdict: tt.verdict, Observed: tt.obs}}
		if c.Mark() != tt.mark || c.Symbol() != tt.symbol || c.Outcome() != tt.outcome {
			t.Errorf("%s: mark %q symbol %q outcome %q, want %q %q %q", tt.verdict, c.Mark(), c.Symbol(), c.Outcome(), tt.mark, tt.symbol, tt.outcome)
		}
	}
}

// TestComparisonAndProxyMatrix pins the matrices' shape: the comparison
// has the common/ ids as columns and every profile as a row; a proxy's own
// matrix has all its ids and only its versions; each cell points at its
// record by its index in the document.
func TestComparisonAndProxyMatrix(t *testing.T) {
	d := sampleDoc()
	m := d.Comparison()
	if want := []string{"common/default-hostname", "common/ip-default", "common/sni-enabled"}; !slices.Equal(m.Columns, want) {
		t.Errorf("comparison columns %q, want %q", m.Columns, want)
	}
	if len(m.Rows) != len(d.Profiles) {
		t.Errorf("comparison has %d rows, want one per profile (%d)", len(m.Rows), len(d.Profiles))
	}
	for _, row := range m.Rows {
		for i, c := range row.Cells {
			if c == nil {
				continue
			}
			if &d.Records[c.Index] != c.Record || c.Record.ID != m.Columns[i] || c.Record.Proxy != row.Profile.Proxy || c.Record.Version != row.Profile.Version {
				t.Errorf("cell %d of %s %s points at record %d (%s)", i, row.Profile.Proxy, row.Profile.Version, c.Index, describe(*c.Record))
			}
		}
	}
	if got := d.Proxies(); !slices.Equal(got, []string{"h2o", "haproxy", "nginx"}) {
		t.Errorf("Proxies = %q", got)
	}
	n := d.ProxyMatrix("nginx")
	if want := []string{"common/default-hostname", "common/sni-enabled", "nginx/refusal/hang-off", "nginx/seed/no-server-name"}; !slices.Equal(n.Columns, want) {
		t.Errorf("nginx columns %q, want %q", n.Columns, want)
	}
	var rows []string
	cells := 0
	for _, row := range n.Rows {
		rows = append(rows, row.Profile.Proxy+" "+row.Profile.Version)
		for _, c := range row.Cells {
			if c != nil {
				cells++
			}
		}
	}
	if !slices.Equal(rows, []string{"nginx 1.22.1", "nginx 1.26.3"}) || cells != 6 {
		t.Errorf("nginx rows %q with %d cells, want 2 rows, 6 cells", rows, cells)
	}
}
