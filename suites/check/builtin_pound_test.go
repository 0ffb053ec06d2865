//go:build conformance

package check_test

import (
	"fmt"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// The built-in pound cases: the Service of every case of
// fixtures/pound/cases.yaml without global directives goes into one
// pound.cfg, each matching a Host of its own (cases share upstream names),
// and sniproof check runs it once in one pound. Each case is judged as the
// nginx cases are (see builtin_test.go): lint's rules predict what check
// observes: POU001 no SNI, POU003 (an IP literal ServerName) a name an
// upstream that routes by SNI refuses, as check's backend does.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "POU001")
	predicts[check.CauseWrongName] = append(predicts[check.CauseWrongName], "POU003")
	predictive = append(predictive, "POU001", "POU003")
}

// pdBuiltinReproduce reruns the built-in pound cases' check.
const pdBuiltinReproduce = "make conformance LABELS=check FOCUS=check/builtin/pound/"

// pdBuiltinCases are pound's case table, one spec each.
var pdBuiltinCases, pdBuiltinErr = fixtures.Cases("pound")

// pdMatch is a case Service's Host match block.
var pdMatch = regexp.MustCompile(`(?s)\n\s*Match OR\n.*?\n\s*End\n`)

// pdShared is the shared pound.cfg of the cases without global
// directives, and each case's location in it; excluded says why a case is
// not in it.
func pdShared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("pound")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], builtinValues.BackendIP, pdBuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	locations, excluded = map[string]string{}, map[string]string{}
	var b strings.Builder
	b.WriteString("ListenHTTP\n    Address 0.0.0.0\n    Port 8080\n")
	for i, c := range pdBuiltinCases {
		if c.Global != "" {
			excluded[c.ID] = fmt.Sprintf("its global directives (%s) would apply to every other case", strings.Join(strings.Fields(c.Global), " "))
			continue
		}
		text := rendered[c.ID]
		at := strings.LastIndex(text, "\n    Service \"case")
		end := strings.LastIndex(text, "\nEnd")
		if at < 0 || end < at {
			return "", nil, nil, fmt.Errorf("%s: no case Service in %q", c.ID, text)
		}
		svc := text[at:end]
		name := fmt.Sprintf("case%d", i)
		svc = pdMatch.ReplaceAllString(svc[strings.Index(svc[1:], "\n")+1:], fmt.Sprintf("\n        Host \"case%d.builtin.test\"\n", i))
		fmt.Fprintf(&b, "    # %s\n    Service %q%s\n", c.ID, name, svc)
		locations[c.ID] = fmt.Sprintf("Service %q", name)
	}
	b.WriteString("End\n")
	return b.String(), locations, excluded, nil
}

var _ = It("loads the built-in pound cases", Label("check", "pound"), func() {
	Expect(pdBuiltinErr).NotTo(HaveOccurred())
	Expect(pdBuiltinCases).NotTo(BeEmpty())
})

var _ = Describe("sniproof check and lint on the built-in pound cases", Label("check", "pound"), Ordered, ContinueOnFailure, func() {
	var rep *check.Report
	var locations, excluded map[string]string

	BeforeAll(func(ctx SpecContext) {
		Expect(pdBuiltinErr).NotTo(HaveOccurred())
		var conf string
		var err error
		conf, locations, excluded, err = pdShared()
		Expect(err).NotTo(HaveOccurred())
		rep = checkShared(ctx, "pound.cfg", []byte(conf))
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

	for _, c := range pdBuiltinCases {
		It(fmt.Sprintf("check/builtin/pound/%s: lint predicts what check observes", c.ID), func() {
			rec := builtinRecord(c, "check/builtin/pound/"+c.ID, "pound", pdBuiltinReproduce+c.ID, excluded[c.ID], rep)
			l := namedLocation(rep, locations[c.ID])
			Expect(l).NotTo(BeNil(), "check reports no %s for %s", locations[c.ID], c.ID)
			// lint predicts a refused handshake: pound answers 503.
			judgeCase(rec, rep, c, []check.Location{*l}, disagreement{}, 503)
		})
	}

	It("check/builtin/pound/coverage: every Service check reports belongs to a case", func() {
		Expect(rep).NotTo(BeNil(), "the check of the built-in pound cases did not run")
		Expect(rep.Locations).To(HaveLen(len(locations)))
		for _, l := range rep.Locations {
			Expect(l.Outcome).NotTo(Equal(check.NotChecked), "%s: %s", l.Location, l.NotChecked)
		}
		fmt.Fprintf(GinkgoWriter, "check/builtin/pound: %d of %d built-in pound cases checked in one pound, %d excluded from it\n",
			len(locations), len(pdBuiltinCases), len(excluded))
	})
})
