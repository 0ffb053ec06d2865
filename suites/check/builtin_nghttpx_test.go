//go:build conformance

package check_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// The built-in nghttpx cases: every case of fixtures/nghttpx/cases.yaml
// whose process needs no options of its own goes into one nghttpx.conf,
// its backend line routed by its request host (HOST/ for the case's
// empty pattern), and sniproof check runs it once in one nghttpx. Each
// case is judged as the nginx cases are (see builtin_test.go): lint's NGH
// rules predict what check observes.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "NGH001", "SQD002")
	predictive = append(predictive, "NGH001", "SQD002")
}

// ngBuiltinReproduce reruns the built-in nghttpx cases' check.
const ngBuiltinReproduce = "make conformance LABELS=check FOCUS=check/builtin/nghttpx/"

// ngBuiltinCases are nghttpx's case table, one spec each.
var ngBuiltinCases, ngBuiltinErr = fixtures.Cases("nghttpx")

// ngShared is the shared nghttpx.conf of the cases without options of
// their own, and each case's location in it; excluded says why a case is
// not in it.
func ngShared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("nghttpx")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], builtinValues.BackendIP, ngBuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	locations, excluded = map[string]string{}, map[string]string{}
	var b strings.Builder
	// nghttpx wants a catch-all backend: a plain one no request reaches.
	b.WriteString("frontend=*,8080;no-tls\nworkers=1\ncacert=" + builtinValues.CA + "\nbackend=127.0.0.1,9;;\n")
	for _, c := range ngBuiltinCases {
		if c.Global != "" {
			excluded[c.ID] = fmt.Sprintf("its options (%s) are the nghttpx process's, which would apply to every other case", strings.Join(strings.Fields(c.Global), " "))
			continue
		}
		_, rest, _ := strings.Cut(rendered[c.ID], "<<'CASE'\n")
		caseConf, _, _ := strings.Cut(rest, "\nCASE\n")
		var line string
		for _, l := range strings.Split(caseConf, "\n") {
			if strings.HasPrefix(l, "backend=") {
				line = l
			}
		}
		host := ""
		for _, l := range strings.Split(rendered[c.ID], "\n") {
			if hosts, ok := strings.CutPrefix(l, "backend=127.0.0.1,2"); ok && strings.Contains(hosts, ";") {
				_, hosts, _ = strings.Cut(hosts, ";")
				host, _, _ = strings.Cut(hosts, ":")
			}
		}
		routed := strings.Replace(line, ";;", ";"+host+"/;", 1)
		if line == "" || host == "" || routed == line {
			return "", nil, nil, fmt.Errorf("%s: no backend line with the empty pattern in %q", c.ID, caseConf)
		}
		fmt.Fprintf(&b, "# %s\n%s\n", c.ID, routed)
		locations[c.ID] = "backend " + host + "/"
	}
	return b.String(), locations, excluded, nil
}

var _ = It("loads the built-in nghttpx cases", Label("check", "nghttpx"), func() {
	Expect(ngBuiltinErr).NotTo(HaveOccurred())
	Expect(ngBuiltinCases).NotTo(BeEmpty())
})

var _ = Describe("sniproof check and lint on the built-in nghttpx cases", Label("check", "nghttpx"), Ordered, ContinueOnFailure, func() {
	var rep *check.Report
	var locations, excluded map[string]string

	BeforeAll(func(ctx SpecContext) {
		Expect(ngBuiltinErr).NotTo(HaveOccurred())
		var conf string
		var err error
		conf, locations, excluded, err = ngShared()
		Expect(err).NotTo(HaveOccurred())
		rep = checkShared(ctx, "nghttpx.conf", []byte(conf))
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

	for _, c := range ngBuiltinCases {
		It(fmt.Sprintf("check/builtin/nghttpx/%s: lint predicts what check observes", c.ID), func() {
			rec := builtinRecord(c, "check/builtin/nghttpx/"+c.ID, "nghttpx", ngBuiltinReproduce+c.ID, excluded[c.ID], rep)
			l := namedLocation(rep, locations[c.ID])
			Expect(l).NotTo(BeNil(), "check reports no %s for %s", locations[c.ID], c.ID)
			// lint predicts a refused handshake: nghttpx answers 502.
			judgeCase(rec, rep, c, []check.Location{*l}, disagreement{}, 502)
		})
	}

	It("check/builtin/nghttpx/coverage: every backend check reports belongs to a case", func() {
		Expect(rep).NotTo(BeNil(), "the check of the built-in nghttpx cases did not run")
		Expect(rep.Locations).To(HaveLen(len(locations)))
		for _, l := range rep.Locations {
			Expect(l.Outcome).NotTo(Equal(check.NotChecked), "%s: %s", l.Location, l.NotChecked)
		}
		fmt.Fprintf(GinkgoWriter, "check/builtin/nghttpx: %d of %d built-in nghttpx cases checked in one nghttpx, %d excluded from it\n",
			len(locations), len(ngBuiltinCases), len(excluded))
	})
})

// namedLocation is the report's location named name.
func namedLocation(rep *check.Report, name string) *check.Location {
	for i, l := range rep.Locations {
		if l.Location == name {
			return &rep.Locations[i]
		}
	}
	return nil
}
