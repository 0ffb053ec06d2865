package check

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sniRules are lint's rules that predict that an upstream refuses the
// handshake: no SNI, an upstream block's name, an IP address.
var sniRules = []string{"SNI001", "SNI002", "SNI003"}

// TestLintAgreesWithExpectations: in the sample, every lint finding of
// SNI001, SNI002 or SNI003 is at a location that fixtures/check/expect.yaml
// expects broken, and every location it expects broken has one. The suite
// (suites/check) checks the same against what check observes.
func TestLintAgreesWithExpectations(t *testing.T) {
	p := loadSample(t)
	es, err := LoadExpectations("../fixtures/check/expect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := &nginxAdapter{cfg: p.Config, p: p}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	var broken, flagged []string
	for _, j := range a.jobs(r, es) {
		if j.loc.Expect != nil && passOf(&j) != nil && j.loc.Expect.Cause != "" {
			broken = append(broken, passOf(&j).Node.Pos())
		}
	}
	for _, f := range p.Config.Tree.Findings {
		if slices.Contains(sniRules, f.Rule) {
			flagged = append(flagged, fmt.Sprintf("%s:%d", f.File, f.Line))
		}
	}
	slices.Sort(broken)
	slices.Sort(flagged)
	if len(broken) == 0 || !slices.Equal(broken, flagged) {
		t.Errorf("expected broken at %q\nlint flags         %q", broken, flagged)
	}
}

// TestSampleWants: lint, reading the sample as check does (includes under
// /etc/nginx read from the sample's folder), finds exactly what the
// sample's "# want" comments say.
func TestSampleWants(t *testing.T) {
	p := loadSample(t)
	want := regexp.MustCompile(`#\s*want((?:\s+SNI\d{3})+)`)
	var wants, got []string
	for _, f := range p.Config.Tree.Files {
		file, err := os.Open(f.Host)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for line := 1; sc.Scan(); line++ {
			if m := want.FindStringSubmatch(sc.Text()); m != nil {
				for _, rule := range strings.Fields(m[1]) {
					wants = append(wants, fmt.Sprintf("%s:%d %s", f.Name, line, rule))
				}
			}
		}
		file.Close()
	}
	for _, f := range p.Config.Tree.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule))
	}
	slices.Sort(wants)
	slices.Sort(got)
	if !slices.Equal(got, wants) {
		t.Errorf("findings %q\nwant     %q", got, wants)
	}
	if n := len(p.Config.Tree.Files); n != 5 {
		t.Errorf("%d files read, want 5 (nginx.conf, conf.d/upstreams.conf, 3 sites)", n)
	}
}
