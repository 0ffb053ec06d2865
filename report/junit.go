package report

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnit renders the document as JUnit XML: one test suite per proxy (or
// client) version, and per self-test suite and what it ran on ("check:
// nginx 1.22.1-1"), one test case per case, named by its id, with the
// evidence of a failure in the failure's body.
func JUnit(d Document) ([]byte, error) {
	out := junitSuites{Name: "sniproof conformance"}
	index := map[string]int{}
	for _, r := range d.Records {
		suite := strings.TrimSpace(r.Proxy + " " + r.Version)
		if IsSelfTest(r.Suite) {
			suite = r.Suite + ": " + suite
		}
		i, ok := index[suite]
		if !ok {
			i = len(out.Suites)
			index[suite] = i
			out.Suites = append(out.Suites, junitSuite{Name: suite, Timestamp: d.Date})
		}
		s := &out.Suites[i]
		c := junitCase{Name: r.ID, Classname: fmt.Sprintf("%s %s (%s)", r.Proxy, r.Version, r.Release)}
		if r.Observed != nil {
			if dur, err := time.ParseDuration(r.Observed.Duration); err == nil {
				c.Time = dur.Seconds()
			}
		}
		switch r.Verdict {
		case Fail, XPass:
			msg := r.Failure
			if len(r.Differences) > 0 {
				msg = strings.Join(r.Differences, "; ")
			}
			if r.Verdict == XPass {
				msg = "XPASS: passes although fixtures/ledger.yaml expects it to fail (" + r.Ledger + ")"
			}
			c.Failure = &junitFailure{Message: firstLine(msg), Type: r.Verdict, Body: evidenceText(r)}
			s.Failures++
			out.Failures++
		case Skip:
			c.Skipped = &junitSkipped{Message: firstLine(r.Failure)}
			s.Skipped++
			out.Skipped++
		case XFail:
			c.SystemOut = "XFAIL: fails as fixtures/ledger.yaml expects: " + r.Ledger + "\n" + strings.Join(r.Differences, "\n")
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
		out.Tests++
	}
	data, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode junit.xml: %w", err)
	}
	return append([]byte(xml.Header), append(data, '\n')...), nil
}

// evidenceText is a record's evidence as plain text.
func evidenceText(r Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\nreason: %s\nsource: %s\nreproduce: %s\n", r.ID, r.Name, r.Evidence.Reason, r.Evidence.Source, r.Evidence.Reproduce)
	if len(r.Differences) > 0 {
		fmt.Fprintf(&b, "\ndifferences:\n  %s\n", strings.Join(r.Differences, "\n  "))
	} else if r.Failure != "" {
		fmt.Fprintf(&b, "\nfailure:\n%s\n", r.Failure)
	}
	if o := r.Observed; o != nil {
		fmt.Fprintf(&b, "\nobserved: status %d, backend %s, SNI %s\n", o.Status, o.Backend, sniText(o.SNI))
		if len(o.ProxyLog) > 0 {
			fmt.Fprintf(&b, "\nproxy log:\n%s\n", strings.Join(o.ProxyLog, "\n"))
		}
	}
	if r.Evidence.Config != "" {
		fmt.Fprintf(&b, "\nconfiguration:\n%s\n", r.Evidence.Config)
	}
	return b.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// sniText shows an observed SNI: none sent, a name, or no ClientHello.
func sniText(sni *string) string {
	switch {
	case sni == nil:
		return "(no ClientHello)"
	case *sni == "":
		return "none"
	}
	return *sni
}
