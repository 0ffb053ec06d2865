package report_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
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

// TestMarkdownSample pins matrix.md of the sample run: first the one line
// of what ran, passed and failed; then the comparison matrix over the
// common/ case ids of the proxies suite only (one row per proxy version,
// a proxy's versions side by side and its name on the first, with the
// version's counts; "—" for a case a proxy does not have; each cell the
// verdict, status and SNI: "none" for "", "(no ClientHello)" for nil);
// the upgrades; each proxy in detail; and a Failures section for FAIL and
// XPASS only, with the differences and the command that reproduces the case.
func TestMarkdownSample(t *testing.T) {
	d := sampleDoc()
	d.Unsupported = []fixtures.Unsupported{{Proxy: "lighttpd", Version: "1.4.69", Reason: "no TLS | to upstreams", Evidence: "its docs"}}
	md := report.Markdown(d)

	lines := strings.SplitN(md, "\n", 6)
	wantHead := "`conformance: 5 passed, 4 failed, 1 skipped` — proxies: 4 versions of 3 proxies, 10 cases — " +
		"failed: nginx 1.26.3 common/default-hostname, h2o 2.2.6 common/ip-default (XPASS), haproxy 2.6.12 common/sni-enabled and 1 more"
	if lines[0] != "# sniproof conformance" || lines[2] != wantHead || !strings.HasSuffix(lines[4], " · shards all") {
		t.Errorf("head of matrix.md:\n%s\nwant line 3:\n%s", strings.Join(lines[:5], "\n"), wantHead)
	}
	order := []string{"## Proxies: the common cases", "## Upgrades", "## Each proxy in detail", "## Failures"}
	for i := 1; i < len(order); i++ {
		if strings.Index(md, order[i-1]) > strings.Index(md, order[i]) {
			t.Errorf("%q comes after %q", order[i-1], order[i])
		}
	}
	if strings.Contains(md, "## Clients") || strings.Contains(md, "## Self-tests") {
		t.Error("a run without clients or self-tests has their sections")
	}

	comparison := section(t, md, "## Proxies: the common cases")
	matrix := tableRows(comparison)
	wantMatrix := []string{
		"| proxy | version | release | cases | `default-hostname` | `ip-default` | `sni-enabled` |",
		"|---|---|---|---|---|---|---|",
		"| h2o | 2.2.6 | bookworm | 1 passed, 1 xfail, 1 xpass | ⚠️ 200 · SNI www.xx.test | ❌ 502 · SNI none | — |",
		"| haproxy | 2.6.12 | bookworm | 1 failed | — | — | ❌ 503 · SNI (no ClientHello) |",
		"| nginx | 1.22.1 | bookworm | 2 passed, 1 skipped | ✅ 502 · SNI none | — | ✅ 200 · SNI www.xx.test |",
		"|  | 1.26.3 | trixie | 1 passed, 2 failed | ❌ 200 · SNI www.xx.test | — | ✅ 200 · SNI www.xx.test |",
		"| lighttpd | 1.4.69 | — | not supported: no TLS \\| to upstreams | — | — | — |",
	}
	if !slices.Equal(matrix, wantMatrix) {
		t.Errorf("comparison matrix:\n%s\nwant\n%s", strings.Join(matrix, "\n"), strings.Join(wantMatrix, "\n"))
	}
	for _, own := range []string{"hang-off", "no-server-name", "config/refused"} {
		if strings.Contains(comparison, own) {
			t.Errorf("the comparison matrix shows the proxy's own case %q", own)
		}
	}

	upgrades := section(t, md, "## Upgrades")
	wantUpgrade := []string{"| case | 1.22.1 | 1.26.3 | why |", "|---|---|---|---|",
		"| `common/default-hostname` | ✅ 502 · SNI none | ❌ 200 · SNI www.xx.test | the field report; proxy_ssl_server_name is off by default |"}
	if !strings.Contains(upgrades, "\n### nginx 1.22.1 → 1.26.3\n") || !slices.Equal(tableRows(upgrades), wantUpgrade) {
		t.Errorf("upgrades:\n%s\nwant the table\n%s", upgrades, strings.Join(wantUpgrade, "\n"))
	}

	detail := section(t, md, "## Each proxy in detail")
	wantNginx := "### nginx\n\n| case | 1.22.1 | 1.26.3 |\n|---|---|---|\n" +
		"| `common/default-hostname` | ✅ 502 · SNI none | ❌ 200 · SNI www.xx.test |\n" +
		"| `common/sni-enabled` | ✅ 200 · SNI www.xx.test | ✅ 200 · SNI www.xx.test |\n" +
		"| `nginx/refusal/hang-off` | — | ❌ no response · SNI (no ClientHello) |\n" +
		"| `nginx/seed/no-server-name` | ⏭ skipped: nginx 1.22.1 did not start | — |\n"
	if !strings.Contains(detail, wantNginx) {
		t.Errorf("nginx in detail:\n%s\nwant\n%s", detail, wantNginx)
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
// Failures section (an XFAIL and a skip are no failures) and says nothing
// failed, and that a run without common/ cases has no comparison matrix.
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
	if !strings.Contains(md, "`conformance: 5 passed, 0 failed, 1 skipped` — proxies: 3 versions of 2 proxies, 6 cases — nothing failed\n") ||
		!strings.Contains(md, "## Proxies: the common cases") {
		t.Errorf("matrix.md lacks the headline or the comparison:\n%s", md)
	}

	var own []report.Record
	for _, r := range rs {
		if !strings.HasPrefix(r.ID, "common/") {
			own = append(own, r)
		}
	}
	md = report.Markdown(report.Build([]report.Suite{{Suite: "proxies", Records: own}}))
	if strings.Contains(md, "## Proxies: the common cases") {
		t.Errorf("a run without common/ cases has a comparison matrix:\n%s", md)
	}
	if !strings.Contains(md, "## Each proxy in detail") {
		t.Errorf("matrix.md lacks the proxies in detail:\n%s", md)
	}
}

// TestMarkdownClientsAndSelfTests pins the clients × targets matrix and
// the self-tests: one table per self-test suite, listing the cases that did
// not pass, a skipped one with its reason.
func TestMarkdownClientsAndSelfTests(t *testing.T) {
	sni := "www.xx.test"
	d := report.Build([]report.Suite{
		{Suite: "clients", Records: []report.Record{
			{ID: "clients/curl/name", Name: "curl by name", Proxy: "curl", Version: "7.88.1", Verdict: report.Pass,
				Observed: &harness.Observation{Status: 200, SNI: &sni}},
			{ID: "clients/curl/ip", Name: "curl by IP", Proxy: "curl", Version: "7.88.1", Verdict: report.Pass,
				Observed: &harness.Observation{Status: 0, SNI: nil}},
		}},
		{Suite: "check", Records: []report.Record{
			{ID: "check/builtin/a", Name: "agree on a", Proxy: "nginx", Version: "1.22.1-9", Verdict: report.Pass},
			{ID: "check/builtin/b", Name: "agree on b", Proxy: "nginx", Verdict: report.Skip, Failure: "skipped: nginx -t refuses it\nmore"},
		}},
		{Suite: "reliability", Records: []report.Record{{ID: "reliability/passing", Name: "a run that passes", Proxy: "sniproof", Version: "run", Verdict: report.Pass}}},
	})
	md := report.Markdown(d)
	if strings.Contains(md, "## Proxies") || strings.Contains(md, "## Each proxy") {
		t.Errorf("a run without the proxies suite shows proxies:\n%s", md)
	}
	clients := tableRows(section(t, md, "## Clients × targets"))
	wantClients := []string{"| client | version | `ip` | `name` |", "|---|---|---|---|", "| curl | 7.88.1 | ✅ no response · SNI (no ClientHello) | ✅ 200 · SNI www.xx.test |"}
	if !slices.Equal(clients, wantClients) {
		t.Errorf("clients:\n%s\nwant\n%s", strings.Join(clients, "\n"), strings.Join(wantClients, "\n"))
	}
	self := section(t, md, "## Self-tests of the harness")
	want := "\n### check: 1 passed, 1 skipped\n\nEvery case not listed passed.\n\n| case | on | verdict |\n|---|---|---|\n" +
		"| `check/builtin/b` | nginx | ⏭ skipped: nginx -t refuses it |\n\n### reliability: 1 passed\n\nEvery case passed.\n"
	if !strings.Contains(self, want) {
		t.Errorf("self-tests:\n%s\nwant\n%s", self, want)
	}
	if !strings.HasPrefix(strings.SplitN(md, "\n", 4)[2], "`conformance: 4 passed, 0 failed, 1 skipped` — clients: 1 client × 2 targets, 2 cases; self-tests: check 2 cases, reliability 1 case — nothing failed") {
		t.Errorf("headline: %s", strings.SplitN(md, "\n", 4)[2])
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
	rows := tableRows(section(t, md, "## Proxies: the common cases"))
	if len(rows) != 4 {
		t.Fatalf("comparison has %d rows, want 4:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	want := "| nginx | 1.26.3 | trixie | 1 passed | ✅ 200 · SNI evil\\|sni name |"
	if rows[2] != want {
		t.Errorf("row = %q, want %q", rows[2], want)
	}
	for _, row := range rows {
		if n := strings.Count(row, "|") - strings.Count(row, `\|`); n != 6 {
			t.Errorf("row %q has %d cell separators, want 6", row, n)
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
		{report.Skip, nil, "⏭", "–", "skipped: not run"},
		{report.Pass, nil, "✅", "✓", "passed"},
		{report.XFail, nil, "⚠️", "≈", "failed as expected"},
	}
	for _, tt := range tests {
		c := report.Cell{Record: &report.Record{Verdict: tt.verdict, Observed: tt.obs}}
		if c.Mark() != tt.mark || c.Symbol() != tt.symbol || c.Outcome() != tt.outcome {
			t.Errorf("%s: mark %q symbol %q outcome %q, want %q %q %q", tt.verdict, c.Mark(), c.Symbol(), c.Outcome(), tt.mark, tt.symbol, tt.outcome)
		}
	}
}

// TestComparisonAndDetail pins the matrices' shape: the comparison has
// the common/ ids of the proxies suite as columns and its profiles as rows,
// each proxy's versions side by side (the first row of a proxy spans them);
// a proxy's detail has all its ids as rows and only its versions as
// columns; each cell points at its record by its index in the document.
func TestComparisonAndDetail(t *testing.T) {
	d := sampleDoc()
	m := d.Comparison()
	if want := []string{"common/default-hostname", "common/ip-default", "common/sni-enabled"}; !slices.Equal(m.Columns, want) {
		t.Errorf("comparison columns %q, want %q", m.Columns, want)
	}
	var rows []string
	for _, row := range m.Rows {
		rows = append(rows, fmt.Sprintf("%s %s first=%v span=%d", row.Profile.Proxy, row.Profile.Version, row.First, row.Span))
		for i, c := range row.Cells {
			if c == nil {
				continue
			}
			if &d.Records[c.Index] != c.Record || c.Record.ID != m.Columns[i] || c.Record.Proxy != row.Profile.Proxy || c.Record.Version != row.Profile.Version {
				t.Errorf("cell %d of %s %s points at record %d (%s)", i, row.Profile.Proxy, row.Profile.Version, c.Index, describe(*c.Record))
			}
		}
	}
	wantRows := []string{"h2o 2.2.6 first=true span=1", "haproxy 2.6.12 first=true span=1", "nginx 1.22.1 first=true span=2", "nginx 1.26.3 first=false span=0"}
	if !slices.Equal(rows, wantRows) {
		t.Errorf("comparison rows %q, want %q", rows, wantRows)
	}
	if got := d.Proxies(); !slices.Equal(got, []string{"h2o", "haproxy", "nginx"}) {
		t.Errorf("Proxies = %q", got)
	}
	n := d.Detail("nginx")
	var versions, ids []string
	for _, v := range n.Versions {
		versions = append(versions, v.Version)
	}
	cells := 0
	for _, row := range n.Rows {
		ids = append(ids, row.ID)
		for j, c := range row.Cells {
			if c == nil {
				continue
			}
			cells++
			if c.Record.ID != row.ID || c.Record.Version != n.Versions[j].Version || &d.Records[c.Index] != c.Record {
				t.Errorf("nginx detail: cell %s on %s points at %s", row.ID, n.Versions[j].Version, describe(*c.Record))
			}
		}
	}
	if want := []string{"common/default-hostname", "common/sni-enabled", "nginx/refusal/hang-off", "nginx/seed/no-server-name"}; !slices.Equal(ids, want) {
		t.Errorf("nginx detail rows %q, want %q", ids, want)
	}
	if !slices.Equal(versions, []string{"1.22.1", "1.26.3"}) || cells != 6 {
		t.Errorf("nginx detail versions %q with %d cells, want 1.22.1 and 1.26.3, 6 cells", versions, cells)
	}
}

// TestMatricesKeepSuitesApart pins that proxies, clients and self-tests
// never share a table: check's records of a proxy (with a package version
// of their own) and the clients' records are neither rows of the
// comparison nor of a proxy's detail, and each self-test suite is a table
// of its own.
func TestMatricesKeepSuitesApart(t *testing.T) {
	rs := sampleRecords()
	check := report.Record{ID: "check/builtin/common/sni-enabled", Name: "check and lint agree", Suite: "check",
		Proxy: "nginx", Version: "1.22.1-9+deb12u3", Verdict: report.Pass}
	skipped := report.Record{ID: "check/builtin/common/ip-default", Name: "check cannot run it", Suite: "check",
		Proxy: "nginx", Verdict: report.Skip, Failure: "skipped: nginx -t refuses it"}
	client := report.Record{ID: "clients/curl/ip", Name: "curl to an IP", Suite: "clients", Proxy: "curl", Version: "7.88.1", Verdict: report.Pass}
	rel := report.Record{ID: "reliability/passing", Name: "a run that passes", Suite: "reliability", Proxy: "sniproof", Version: "run", Verdict: report.Pass}
	d := report.Build([]report.Suite{{Suite: "proxies", Records: rs}, {Suite: "check", Records: []report.Record{check, skipped}},
		{Suite: "clients", Records: []report.Record{client}}, {Suite: "reliability", Records: []report.Record{rel}}})
	for _, row := range d.Comparison().Rows {
		if row.Profile.Suite != "proxies" {
			t.Errorf("the comparison has a row of the %s suite: %s %s", row.Profile.Suite, row.Profile.Proxy, row.Profile.Version)
		}
	}
	for _, v := range d.Detail("nginx").Versions {
		if v.Version != "1.22.1" && v.Version != "1.26.3" {
			t.Errorf("nginx's detail has the version %q", v.Version)
		}
	}
	if m := d.ClientMatrix(); len(m.Rows) != 1 || m.Rows[0].Profile.Proxy != "curl" || !slices.Equal(m.Columns, []string{"ip"}) {
		t.Errorf("client matrix %+v, want curl × ip", m)
	}
	var suites []string
	for _, st := range d.SelfTests() {
		suites = append(suites, fmt.Sprintf("%s %s %d", st.Suite, st.Summary.Count(), len(st.Cells)))
	}
	if want := []string{"check 1 passed, 1 skipped 2", "reliability 1 passed 1"}; !slices.Equal(suites, want) {
		t.Errorf("self-tests %q, want %q", suites, want)
	}
	var profiles []string
	for _, p := range d.Profiles {
		profiles = append(profiles, fmt.Sprintf("%s/%s/%s/%s", p.Suite, p.Proxy, p.Version, p.Result))
	}
	want := []string{"proxies/h2o/2.2.6/partial", "proxies/haproxy/2.6.12/failure", "proxies/nginx/1.22.1/success", "proxies/nginx/1.26.3/partial",
		"clients/curl/7.88.1/success", "check/nginx/1.22.1-9+deb12u3/success", "check/nginx//skipped", "reliability/sniproof/run/success"}
	if !slices.Equal(profiles, want) {
		t.Errorf("profiles\n%q\nwant\n%q", profiles, want)
	}
	if got, want := d.Ran(), "proxies: 4 versions of 3 proxies, 10 cases; clients: 1 client × 1 target, 1 case; self-tests: check 2 cases, reliability 1 case"; got != want {
		t.Errorf("Ran = %q, want %q", got, want)
	}
}

// TestUpgrades pins the upgrade view: for each proxy with several
// versions, consecutive versions in version order, and the cases both ran
// whose verdict, status or SNI differ.
func TestUpgrades(t *testing.T) {
	d := sampleDoc()
	ups := d.Upgrades()
	if len(ups) != 1 || ups[0].Proxy != "nginx" || ups[0].From.Version != "1.22.1" || ups[0].To.Version != "1.26.3" {
		t.Fatalf("upgrades %+v, want nginx 1.22.1 → 1.26.3", ups)
	}
	var ids []string
	for _, c := range ups[0].Cases {
		ids = append(ids, c.ID)
		if c.From.Record.Version != "1.22.1" || c.To.Record.Version != "1.26.3" || c.From.Record.ID != c.ID || c.To.Record.ID != c.ID {
			t.Errorf("change %s: from %s to %s", c.ID, describe(*c.From.Record), describe(*c.To.Record))
		}
	}
	// common/sni-enabled passes with the same status and SNI on both;
	// the nginx/ cases ran on one version each.
	if !slices.Equal(ids, []string{"common/default-hostname"}) {
		t.Errorf("changed cases %q, want common/default-hostname", ids)
	}

	// Same verdict, another status or SNI is a change too; versions in
	// numeric order.
	rec := func(version string, status int, sni string) report.Record {
		return report.Record{ID: "common/x", Suite: "proxies", Proxy: "haproxy", Version: version, Verdict: report.Pass,
			Observed: &harness.Observation{Status: status, SNI: &sni}}
	}
	d = report.Build([]report.Suite{{Suite: "proxies", Records: []report.Record{
		rec("3.10.1", 200, "a.test"), rec("3.2.1", 200, "a.test"), rec("3.4.0", 200, ""), rec("2.6.12", 503, "a.test")}}})
	var got []string
	for _, u := range d.Upgrades() {
		got = append(got, fmt.Sprintf("%s→%s %d", u.From.Version, u.To.Version, len(u.Cases)))
	}
	if want := []string{"2.6.12→3.2.1 1", "3.2.1→3.4.0 1", "3.4.0→3.10.1 1"}; !slices.Equal(got, want) {
		t.Errorf("upgrades %q, want %q", got, want)
	}
}

// TestCompareVersions pins the version order of rows and upgrades.
func TestCompareVersions(t *testing.T) {
	ordered := []string{"1.9.15", "1.22.1", "1.26.3", "2.6.12", "2.6.12-1+deb12u3", "3.0.11", "3.10", ""}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := report.CompareVersions(ordered[i], ordered[j]); got != want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

// TestChangeWhy: an upgrade's reason is the newer version's override
// note, else the older's, else the case's reason.
func TestChangeWhy(t *testing.T) {
	cell := func(note, reason string) *report.Cell {
		return &report.Cell{Record: &report.Record{Expected: fixtures.Expect{Note: note}, Evidence: report.Evidence{Reason: reason}}}
	}
	for _, tt := range []struct {
		from, to *report.Cell
		want     string
	}{
		{cell("", "r"), cell("sni-auto (manual 3.4)", "r"), "sni-auto (manual 3.4)"},
		{cell("2.6 predates it", "r"), cell("", "r"), "2.6 predates it"},
		{cell("", "the case's reason"), cell("", "the case's reason"), "the case's reason"},
	} {
		if got := (report.Change{From: tt.from, To: tt.to}).Why(); got != tt.want {
			t.Errorf("Why() = %q, want %q", got, tt.want)
		}
	}
}

// TestReleaseText: a version's release is named with its image's
// packages, as dpkg reports them.
func TestReleaseText(t *testing.T) {
	p := report.Profile{Release: "forky", Packages: []string{"haproxy 3.2.26-1"}}
	if got := p.ReleaseText(); got != "forky (haproxy 3.2.26-1)" {
		t.Errorf("ReleaseText() = %q", got)
	}
	if got := (report.Profile{Release: "bundled"}).ReleaseText(); got != "bundled" {
		t.Errorf("ReleaseText() = %q, want bundled", got)
	}
}
