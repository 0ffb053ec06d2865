package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/report"
)

// The JUnit XML as a CI dashboard reads it; declared here so that the test
// does not depend on the package's own types.
type xSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []xSuite `xml:"testsuite"`
}

type xSuite struct {
	Name      string  `xml:"name,attr"`
	Tests     int     `xml:"tests,attr"`
	Failures  int     `xml:"failures,attr"`
	Skipped   int     `xml:"skipped,attr"`
	Timestamp string  `xml:"timestamp,attr"`
	Cases     []xCase `xml:"testcase"`
}

type xCase struct {
	Name      string  `xml:"name,attr"`
	Classname string  `xml:"classname,attr"`
	Time      float64 `xml:"time,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut *string `xml:"system-out"`
}

// parseJUnit renders d as JUnit and decodes it strictly, failing the test
// on XML that does not parse.
func parseJUnit(t *testing.T, d report.Document) (xSuites, string) {
	t.Helper()
	data, err := report.JUnit(d)
	if err != nil {
		t.Fatalf("JUnit: %v", err)
	}
	if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("junit.xml does not start with the XML declaration: %.60q", data)
	}
	// Every token must decode: well-formed XML.
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("junit.xml is not well-formed: %v\n%s", err, data)
			}
			break
		}
	}
	var out xSuites
	if err := xml.Unmarshal(data, &out); err != nil {
		t.Fatalf("decode junit.xml: %v\n%s", err, data)
	}
	return out, string(data)
}

// TestJUnit pins the JUnit report of the sample run: one testsuite per
// proxy version with its counts, one testcase per record named by its case
// id; FAIL and XPASS carry a failure whose message holds the differences
// (or the ledger entry) and whose body holds the evidence; SKIP is skipped;
// XFAIL passes with the ledger entry in system-out; PASS has neither.
func TestJUnit(t *testing.T) {
	d := sampleDoc()
	j, _ := parseJUnit(t, d)

	if j.Name != "sniproof conformance" || j.Tests != 10 || j.Failures != 4 || j.Skipped != 1 {
		t.Errorf("testsuites name %q tests %d failures %d skipped %d, want sniproof conformance, 10, 4, 1", j.Name, j.Tests, j.Failures, j.Skipped)
	}
	var names []string
	suites := map[string]xSuite{}
	for _, s := range j.Suites {
		names = append(names, s.Name)
		suites[s.Name] = s
		if s.Tests != len(s.Cases) {
			t.Errorf("testsuite %q: tests=%d but %d testcases", s.Name, s.Tests, len(s.Cases))
		}
		if s.Timestamp != d.Date {
			t.Errorf("testsuite %q: timestamp %q, want the run's date %q", s.Name, s.Timestamp, d.Date)
		}
	}
	slices.Sort(names)
	if want := []string{"h2o 2.2.6", "haproxy 2.6.12", "nginx 1.22.1", "nginx 1.26.3"}; !slices.Equal(names, want) {
		t.Fatalf("testsuites %q, want one per proxy version %q", names, want)
	}
	counts := map[string][3]int{ // tests, failures, skipped
		"h2o 2.2.6":      {3, 1, 0},
		"haproxy 2.6.12": {1, 1, 0},
		"nginx 1.22.1":   {3, 0, 1},
		"nginx 1.26.3":   {3, 2, 0},
	}
	for name, c := range counts {
		s := suites[name]
		if got := [3]int{s.Tests, s.Failures, s.Skipped}; got != c {
			t.Errorf("testsuite %q: tests, failures, skipped = %v, want %v", name, got, c)
		}
	}

	for _, r := range d.Records {
		suite := suites[r.Proxy+" "+r.Version]
		i := slices.IndexFunc(suite.Cases, func(c xCase) bool { return c.Name == r.ID })
		if i < 0 {
			t.Errorf("%s: no testcase named %q in %q", describe(r), r.ID, suite.Name)
			continue
		}
		c := suite.Cases[i]
		if want := r.Proxy + " " + r.Version + " (" + r.Release + ")"; c.Classname != want {
			t.Errorf("%s: classname %q, want %q", describe(r), c.Classname, want)
		}
		switch r.Verdict {
		case report.Pass:
			if c.Failure != nil || c.Skipped != nil || c.SystemOut != nil {
				t.Errorf("%s: a passing case has failure %v, skipped %v or system-out %v", describe(r), c.Failure, c.Skipped, c.SystemOut)
			}
		case report.Fail, report.XPass:
			if c.Failure == nil || c.Skipped != nil {
				t.Errorf("%s: failure %v, skipped %v, want a failure only", describe(r), c.Failure, c.Skipped)
				continue
			}
			if c.Failure.Type != r.Verdict {
				t.Errorf("%s: failure type %q, want %q", describe(r), c.Failure.Type, r.Verdict)
			}
			for _, diff := range r.Differences {
				if !strings.Contains(c.Failure.Message, diff) || !strings.Contains(c.Failure.Body, diff) {
					t.Errorf("%s: failure message %q or body lacks the difference %q", describe(r), c.Failure.Message, diff)
				}
			}
			body := c.Failure.Body
			for _, w := range []string{r.ID, r.Name, "reason: " + r.Evidence.Reason, "source: " + r.Evidence.Source, "reproduce: " + r.Evidence.Reproduce} {
				if !strings.Contains(body, w) {
					t.Errorf("%s: failure body lacks %q:\n%s", describe(r), w, body)
				}
			}
			if r.Evidence.Config != "" && !strings.Contains(body, "configuration:\n"+r.Evidence.Config) {
				t.Errorf("%s: failure body lacks the configuration:\n%s", describe(r), body)
			}
			if r.Observed != nil {
				for _, line := range r.Observed.ProxyLog {
					if !strings.Contains(body, line) {
						t.Errorf("%s: failure body lacks the proxy log line %q", describe(r), line)
					}
				}
			}
			if strings.Contains(c.Failure.Message, "\n") {
				t.Errorf("%s: failure message %q has more than one line", describe(r), c.Failure.Message)
			}
		case report.Skip:
			if c.Skipped == nil || c.Failure != nil {
				t.Errorf("%s: skipped %v, failure %v, want skipped only", describe(r), c.Skipped, c.Failure)
			} else if c.Skipped.Message != r.Failure {
				t.Errorf("%s: skipped message %q, want %q", describe(r), c.Skipped.Message, r.Failure)
			}
		case report.XFail:
			if c.Failure != nil || c.Skipped != nil || c.SystemOut == nil {
				t.Errorf("%s: failure %v, skipped %v, system-out %v, want a passing case with system-out", describe(r), c.Failure, c.Skipped, c.SystemOut)
				continue
			}
			for _, w := range append([]string{"XFAIL", r.Ledger}, r.Differences...) {
				if !strings.Contains(*c.SystemOut, w) {
					t.Errorf("%s: system-out %q lacks %q", describe(r), *c.SystemOut, w)
				}
			}
		}
	}
}

// TestJUnitMessages pins the failure messages of particular records: the
// differences joined by "; ", the ledger entry of an XPASS, the first line
// of a failure the judge never saw, and the observed SNI in the body
// ("none" for "", "(no ClientHello)" for nil); and the test case's time.
func TestJUnitMessages(t *testing.T) {
	d := sampleDoc()
	j, _ := parseJUnit(t, d)
	find := func(suite, id string) xCase {
		t.Helper()
		for _, s := range j.Suites {
			for _, c := range s.Cases {
				if s.Name == suite && c.Name == id {
					return c
				}
			}
		}
		t.Fatalf("no testcase %s in %s", id, suite)
		return xCase{}
	}
	c := find("nginx 1.26.3", "common/default-hostname")
	if want := `status 200 want 502; backend served the connection, want refused; SNI "www.xx.test", want none`; c.Failure.Message != want {
		t.Errorf("FAIL message = %q, want %q", c.Failure.Message, want)
	}
	if !strings.Contains(c.Failure.Body, "observed: status 200, backend served, SNI www.xx.test") {
		t.Errorf("FAIL body lacks the observation:\n%s", c.Failure.Body)
	}
	if c.Time != 0.25 {
		t.Errorf("time = %v, want 0.25 (the observation's 250ms)", c.Time)
	}

	c = find("h2o 2.2.6", "common/ip-default")
	if want := "XPASS: passes although fixtures/ledger.yaml expects it to fail (h2o sent SNI to IP literals before 2.3)"; c.Failure.Message != want {
		t.Errorf("XPASS message = %q, want %q", c.Failure.Message, want)
	}
	if !strings.Contains(c.Failure.Body, "SNI none") {
		t.Errorf("XPASS body lacks SNI none:\n%s", c.Failure.Body)
	}

	c = find("haproxy 2.6.12", "common/sni-enabled")
	if !strings.Contains(c.Failure.Body, "SNI (no ClientHello)") || !strings.Contains(c.Failure.Body, "proxy log:\n[WARNING] backend be_sni has no server available!") {
		t.Errorf("FAIL body lacks the nil SNI or the proxy log:\n%s", c.Failure.Body)
	}

	c = find("nginx 1.26.3", "nginx/refusal/hang-off")
	if want := "synchronise with nginx 1.26.3: the mark did not reach the backend"; c.Failure.Message != want {
		t.Errorf("unjudged FAIL message = %q, want the failure's first line %q", c.Failure.Message, want)
	}
	if !strings.Contains(c.Failure.Body, "failure:\nsynchronise with nginx 1.26.3: the mark did not reach the backend\nwithin 10s") {
		t.Errorf("unjudged FAIL body lacks the whole failure:\n%s", c.Failure.Body)
	}
	if c.Time != 30 {
		t.Errorf("time = %v, want 30", c.Time)
	}

	c = find("nginx 1.22.1", "nginx/seed/no-server-name")
	if c.Time != 0 {
		t.Errorf("a case never observed has time %v, want 0", c.Time)
	}
}

// TestJUnitHostile pins that text from proxies and case tables that is not
// XML-safe (markup, CDATA ends, quotes, control characters) still makes
// well-formed XML whose decoded text keeps the printable characters.
func TestJUnitHostile(t *testing.T) {
	r := sampleRecords()[2] // common/default-hostname on nginx 1.26.3, FAIL
	r.Name = `<script>alert("x")</script> & ]]> 'quoted'`
	r.Differences = []string{`status 200 want 502 <b>"&amp;"</b> ]]>`}
	r.Observed.ProxyLog = []string{"\x1b[31mred\x1b[0m \x00 \ufffe tab\tend"}
	d := report.Build([]report.Suite{{Suite: "proxies", Records: []report.Record{r}}})
	j, raw := parseJUnit(t, d)
	if strings.Contains(raw, "<script>") || strings.Contains(raw, "<b>") {
		t.Errorf("markup from a record reached junit.xml unescaped:\n%s", raw)
	}
	c := j.Suites[0].Cases[0]
	if c.Failure == nil {
		t.Fatal("no failure")
	}
	if c.Failure.Message != r.Differences[0] {
		t.Errorf("message = %q, want %q", c.Failure.Message, r.Differences[0])
	}
	if !strings.Contains(c.Failure.Body, r.Name) || !strings.Contains(c.Failure.Body, "red") || !strings.Contains(c.Failure.Body, "tab\tend") {
		t.Errorf("body lost text:\n%q", c.Failure.Body)
	}
}

// TestJUnitEmpty pins that a run without records is still a valid report:
// a testsuites element with zero counts.
func TestJUnitEmpty(t *testing.T) {
	j, _ := parseJUnit(t, report.Build(nil))
	if j.Tests != 0 || j.Failures != 0 || j.Skipped != 0 || len(j.Suites) != 0 {
		t.Errorf("empty run: %+v", j)
	}
}
