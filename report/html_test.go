package report_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/report"
)

// page is index.html parsed as a browser would.
type page struct {
	raw   string
	root  *html.Node
	nodes []*html.Node // every element, in document order
}

func renderPage(t *testing.T, d report.Document) page {
	t.Helper()
	data, err := report.HTML(d)
	if err != nil {
		t.Fatalf("HTML: %v", err)
	}
	root, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse index.html: %v", err)
	}
	p := page{raw: string(data), root: root}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			p.nodes = append(p.nodes, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return p
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// elements are the page's elements with tag name tag.
func (p page) elements(tag string) []*html.Node {
	var out []*html.Node
	for _, n := range p.nodes {
		if n.Data == tag {
			out = append(out, n)
		}
	}
	return out
}

func (p page) byID(id string) *html.Node {
	for _, n := range p.nodes {
		if v, _ := attr(n, "id"); v == id {
			return n
		}
	}
	return nil
}

// cell is a matrix cell of the page.
type cell struct {
	class, verdict, title string
	ev                    int // the evidence it links to
}

// cells are the page's matrix cells that link to evidence.
func (p page) cells(t *testing.T) []cell {
	t.Helper()
	var out []cell
	for _, td := range p.elements("td") {
		class, _ := attr(td, "class")
		if !strings.HasPrefix(class, "cell ") {
			continue
		}
		c := cell{class: class, ev: -1}
		c.verdict, _ = attr(td, "data-verdict")
		c.title, _ = attr(td, "title")
		if a := td.FirstChild; a != nil && a.Type == html.ElementNode && a.Data == "a" {
			href, _ := attr(a, "href")
			n, err := strconv.Atoi(strings.TrimPrefix(href, "#ev-"))
			if err != nil || !strings.HasPrefix(href, "#ev-") {
				t.Errorf("cell %q links to %q, want #ev-N", c.title, href)
			}
			c.ev = n
		} else {
			t.Errorf("cell %q has no link to its evidence", c.title)
		}
		out = append(out, c)
	}
	return out
}

// TestHTMLEvidenceAndCells pins index.html of the sample run: the summary
// line, one <details id="ev-N"> per record N with its verdict as class,
// and matrix cells that each link to the evidence of their own record, with
// the record's verdict as class and data-verdict; every FAIL and XPASS
// record has a red cell ("cell fail", "cell xpass").
func TestHTMLEvidenceAndCells(t *testing.T) {
	d := sampleDoc()
	p := renderPage(t, d)

	if s := p.byID("summary"); s == nil || text(s) != "conformance: 5 passed, 4 failed, 1 skipped" {
		t.Errorf("#summary missing or wrong")
	}
	for i, r := range d.Records {
		ev := p.byID(fmt.Sprintf("ev-%d", i))
		if ev == nil || ev.Data != "details" {
			t.Errorf("record %d (%s) has no <details id=\"ev-%d\">", i, describe(r), i)
			continue
		}
		if class, _ := attr(ev, "class"); class != strings.ToLower(r.Verdict) {
			t.Errorf("ev-%d class %q, want %q", i, class, strings.ToLower(r.Verdict))
		}
		body := text(ev)
		for _, w := range []string{r.Verdict + " · " + r.Proxy + " " + r.Version, r.ID, r.Name, r.Evidence.Reason, r.Evidence.Source, r.Evidence.Reproduce, r.Evidence.Config, r.Ledger} {
			if !strings.Contains(body, w) {
				t.Errorf("ev-%d (%s) lacks %q", i, describe(r), w)
			}
		}
		for _, diff := range r.Differences {
			if !strings.Contains(body, diff) {
				t.Errorf("ev-%d lacks the difference %q", i, diff)
			}
		}
		if o := r.Observed; o != nil {
			for _, l := range o.ProxyLog {
				if !strings.Contains(body, l) {
					t.Errorf("ev-%d lacks the proxy log line %q", i, l)
				}
			}
		}
	}
	if p.byID(fmt.Sprintf("ev-%d", len(d.Records))) != nil {
		t.Errorf("there is an ev-%d but only %d records", len(d.Records), len(d.Records))
	}
	if got := len(p.elements("details")); got != len(d.Records) {
		t.Errorf("%d <details>, want one per record (%d)", got, len(d.Records))
	}

	cells := p.cells(t)
	// Comparison cells (7), each proxy's detail (10 records) and the
	// upgrade of nginx (one case, two cells).
	if len(cells) != 19 {
		t.Errorf("%d cells, want 19", len(cells))
	}
	red := map[int]int{}
	for _, c := range cells {
		if c.ev < 0 || c.ev >= len(d.Records) {
			continue
		}
		r := d.Records[c.ev]
		title := r.ID + ": " + r.Name
		if r.Verdict == report.Skip {
			title += " — skipped: " + r.SkipReason()
		}
		if c.verdict != r.Verdict || c.class != "cell "+strings.ToLower(r.Verdict) || c.title != title {
			t.Errorf("cell (class %q, data-verdict %q, title %q) links to ev-%d, which is %s", c.class, c.verdict, c.title, c.ev, describe(r))
		}
		if c.class == "cell fail" || c.class == "cell xpass" {
			red[c.ev]++
		}
	}
	upgraded := map[int]bool{}
	for _, u := range d.Upgrades() {
		for _, ch := range u.Cases {
			upgraded[ch.From.Index], upgraded[ch.To.Index] = true, true
		}
	}
	for i, r := range d.Records {
		switch r.Verdict {
		case report.Fail, report.XPass:
			want := 1 // in its proxy's detail
			if strings.HasPrefix(r.ID, report.CommonPrefix) {
				want++ // and in the comparison
			}
			if upgraded[i] {
				want++ // and in the upgrade view
			}
			if red[i] != want {
				t.Errorf("%s: %d red cells linking to ev-%d, want %d", describe(r), red[i], i, want)
			}
		default:
			if red[i] != 0 {
				t.Errorf("%s is red", describe(r))
			}
		}
	}
	// The form report check looks for.
	for i, r := range d.Records {
		if r.Verdict == report.Fail && !strings.Contains(p.raw, `<td class="cell fail" data-verdict="FAIL" title="`+r.ID+`: `) {
			t.Errorf("raw page lacks the FAIL cell of %s", describe(r))
		}
		if r.Verdict == report.Fail && !strings.Contains(p.raw, fmt.Sprintf(`<a href="#ev-%d">`, i)) {
			t.Errorf("raw page lacks the link to ev-%d", i)
		}
	}
}

// TestHTMLEscapes pins html/template's escaping of text from case tables,
// proxies and backends: a case name with <script>, differences with
// markup, a proxy log that closes <pre>; none becomes an element, all shows
// as text; and the page stays without network: no script, style or image
// from elsewhere.
func TestHTMLEscapes(t *testing.T) {
	rs := sampleRecords()
	evil := `<script>alert("name")</script> x" src="http://evil.example/x.js`
	rs[2].Name = evil
	rs[2].Differences = []string{`<img src=x onerror=alert(1)> status 200`, `</li></ul><script>alert(2)</script>`}
	rs[2].Observed.ProxyLog = []string{`</pre><iframe src="https://evil.example"></iframe>`}
	rs[2].Evidence.Config = "location / { return 200 '</pre><script>alert(3)</script>'; }"
	rs[2].Evidence.Reproduce = `make conformance FOCUS='<b>bold</b>'`
	rs[0].Failure = "</pre><style>body{background:url(http://evil.example)}</style>"
	d := report.Build([]report.Suite{{Suite: "proxies", Records: rs}, {Suite: "x", SetupError: "<marquee>setup</marquee>"}})
	p := renderPage(t, d)

	if n := len(p.elements("script")); n != 1 {
		t.Errorf("%d <script> elements, want only the page's own", n)
	}
	for _, tag := range []string{"img", "iframe", "marquee", "b", "link"} {
		if n := len(p.elements(tag)); n != 0 {
			t.Errorf("%d <%s> elements from hostile text", n, tag)
		}
	}
	if n := len(p.elements("style")); n != 1 {
		t.Errorf("%d <style> elements, want only the page's own", n)
	}
	i := -1
	for j, r := range d.Records {
		if r.Name == evil {
			i = j
		}
	}
	if i < 0 {
		t.Fatal("no record with the hostile name")
	}
	ev := text(p.byID(fmt.Sprintf("ev-%d", i)))
	for _, w := range []string{evil, `<img src=x onerror=alert(1)> status 200`, `</li></ul><script>alert(2)</script>`, `</pre><iframe src="https://evil.example"></iframe>`, `'</pre><script>alert(3)</script>'`, `FOCUS='<b>bold</b>'`} {
		if !strings.Contains(ev, w) {
			t.Errorf("the evidence does not show %q as text:\n%s", w, ev)
		}
	}
	found := false
	for _, c := range p.cells(t) {
		if c.ev == i {
			found = true
			if c.title != d.Records[i].ID+": "+evil {
				t.Errorf("cell title %q, want the name as text", c.title)
			}
		}
	}
	if !found {
		t.Errorf("no cell links to ev-%d", i)
	}
	checkOffline(t, p)
	if strings.Contains(p.raw, "<script>alert") || strings.Contains(p.raw, "<img") || strings.Contains(p.raw, "<iframe") {
		t.Error("raw page holds hostile markup unescaped")
	}
}

// checkOffline fails the test if the page would fetch anything over the
// network: every src and href stays on the page.
func checkOffline(t *testing.T, p page) {
	t.Helper()
	lower := strings.ToLower(p.raw)
	for _, bad := range []string{`src="http`, `href="http`, `src='http`, `href='http`, `src=http`, `href=http`, `src="//`, `href="//`} {
		if strings.Contains(lower, bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	for _, n := range p.nodes {
		for _, a := range n.Attr {
			if a.Key != "src" && a.Key != "href" {
				continue
			}
			if !strings.HasPrefix(a.Val, "#") {
				t.Errorf("<%s %s=%q>: want only links within the page", n.Data, a.Key, a.Val)
			}
		}
	}
	for _, st := range p.elements("style") {
		if css := strings.ToLower(text(st)); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
			t.Errorf("the page's style loads something: %q", css)
		}
	}
	if len(p.elements("link")) != 0 || len(p.elements("img")) != 0 {
		t.Error("index.html loads a stylesheet or an image")
	}
	for _, s := range p.elements("script") {
		if _, ok := attr(s, "src"); ok {
			t.Error("index.html loads a script")
		}
	}
}

// TestHTMLOffline pins that the sample's page needs no network, and that a
// run without records or with only errors still renders.
func TestHTMLOffline(t *testing.T) {
	checkOffline(t, renderPage(t, sampleDoc()))

	empty := report.Build([]report.Suite{{Suite: "proxies", InfraError: "connect to Docker: no engine"}})
	p := renderPage(t, empty)
	checkOffline(t, p)
	if !strings.Contains(text(p.root), "Infrastructure error: proxies: connect to Docker: no engine") {
		t.Error("the page does not show the infrastructure error")
	}
	if len(p.elements("details")) != 0 || p.byID("comparison") != nil {
		t.Error("an empty run shows evidence or a comparison")
	}
}

// TestHTMLLayout pins the order a reader meets the page in: the one line
// of what ran, passed and failed (each failure a link to its evidence),
// then the proxies' comparison (with the unsupported proxies as rows of
// their own), the upgrades, the clients × targets, the self-tests, each
// proxy in detail, and the evidence.
func TestHTMLLayout(t *testing.T) {
	rs := append(sampleRecords(),
		report.Record{ID: "clients/curl/ip", Name: "curl by IP", Suite: "clients", Proxy: "curl", Version: "7.88.1", Verdict: report.Pass},
		report.Record{ID: "check/builtin/a", Name: "agree on a", Suite: "check", Proxy: "nginx", Version: "1.22.1-9", Verdict: report.Pass})
	d := report.Build([]report.Suite{{Suite: "proxies", Records: rs}})
	d.Unsupported = []fixtures.Unsupported{{Proxy: "lighttpd", Version: "1.4.69", Reason: "no TLS to upstreams", Evidence: "its docs"},
		{Proxy: "envoy", Reason: "not packaged", SNI: "none unless sni or auto_sni"}}
	p := renderPage(t, d)

	head := p.byID("headline")
	if head == nil {
		t.Fatal("no #headline")
	}
	want := "conformance: 7 passed, 4 failed, 1 skipped — proxies: 4 versions of 3 proxies, 10 cases; clients: 1 client × 1 target, 1 case; " +
		"self-tests: check 1 case — failed: nginx 1.26.3 common/default-hostname, h2o 2.2.6 common/ip-default (XPASS), haproxy 2.6.12 common/sni-enabled and 1 more"
	if got := strings.Join(strings.Fields(text(head)), " "); got != want {
		t.Errorf("headline\n%q\nwant\n%q", got, want)
	}
	var links []string
	for _, n := range p.nodes {
		if n.Data == "a" && isIn(n, head) {
			href, _ := attr(n, "href")
			links = append(links, href+" "+text(n))
		}
	}
	failed := d.Failed()
	for i, c := range failed[:3] {
		if w := fmt.Sprintf("#ev-%d %s", c.Index, c.Name()); i >= len(links) || links[i] != w {
			t.Errorf("headline links %q, want %q at %d", links, w, i)
		}
	}
	var order []string
	for _, id := range []string{"headline", "comparison", "upgrades", "client-matrix", "self-tests", "details", "evidence"} {
		if p.byID(id) == nil {
			t.Errorf("no #%s", id)
		}
		order = append(order, id)
	}
	pos := map[*html.Node]int{}
	for i, n := range p.nodes {
		pos[n] = i
	}
	for i := 1; i < len(order); i++ {
		if a, b := p.byID(order[i-1]), p.byID(order[i]); a != nil && b != nil && pos[a] > pos[b] {
			t.Errorf("#%s comes after #%s", order[i-1], order[i])
		}
	}
	comparison := text(p.byID("comparison"))
	if !strings.Contains(comparison, "lighttpd") || !strings.Contains(comparison, "not supported: no TLS to upstreams") {
		t.Errorf("the comparison lacks the unsupported proxy: %s", comparison)
	}
	if !strings.Contains(comparison, "not supported: not packaged; SNI: none unless sni or auto_sni") {
		t.Errorf("the comparison lacks an unsupported proxy's SNI: %s", comparison)
	}
	if md := report.Markdown(d); !strings.Contains(md, "not supported: not packaged; SNI: none unless sni or auto_sni") {
		t.Errorf("the Markdown comparison lacks an unsupported proxy's SNI:\n%s", md)
	}
	if strings.Contains(comparison, "curl") || strings.Contains(comparison, "1.22.1-9") {
		t.Error("the comparison shows a client or a self-test")
	}
}

func isIn(n, ancestor *html.Node) bool {
	for ; n != nil; n = n.Parent {
		if n == ancestor {
			return true
		}
	}
	return false
}

// TestHTMLPassingRunHasNoRed pins that a run in which nothing failed paints
// nothing red: a skipped self-test case without a version (the rows that
// once showed red) is a grey cell with its reason, in its own table.
func TestHTMLPassingRunHasNoRed(t *testing.T) {
	var rs []report.Record
	for _, r := range sampleRecords() {
		if r.Verdict == report.Pass || r.Verdict == report.XFail || r.Verdict == report.Skip {
			rs = append(rs, r)
		}
	}
	d := report.Build([]report.Suite{{Suite: "proxies", Records: rs}, {Suite: "check", Records: []report.Record{
		{ID: "check/builtin/haproxy/default/ssl-without-verify", Name: "HAProxy refuses a plain ssl server line", Proxy: "haproxy",
			Verdict: report.Skip, Failure: "skipped: haproxy -c rejects it (verify is required by default)"},
		{ID: "check/builtin/haproxy/common/sni-enabled", Name: "agree on sni-enabled", Proxy: "haproxy", Version: "2.6.12-1+deb12u3", Verdict: report.Pass},
	}}})
	p := renderPage(t, d)
	for _, n := range p.nodes {
		class, _ := attr(n, "class")
		for _, c := range strings.Fields(class) {
			if c == "fail" || c == "xpass" {
				t.Errorf("<%s class=%q> is red in a passing run: %s", n.Data, class, text(n))
			}
		}
	}
	self := text(p.byID("self-tests"))
	if !strings.Contains(self, "check: 1 passed, 1 skipped") || !strings.Contains(self, "skipped: haproxy -c rejects it (verify is required by default)") {
		t.Errorf("the self-tests lack the skipped case's reason: %s", self)
	}
	found := false
	for _, c := range p.cells(t) {
		if c.verdict == report.Skip && strings.HasPrefix(c.title, "check/builtin/haproxy/default/ssl-without-verify: ") {
			found = c.class == "cell skip"
		}
	}
	if !found {
		t.Error("the skipped self-test case is not a grey cell")
	}
}
