//go:build conformance

// Package proxies_test is the proxy conformance suite: the cases of
// fixtures/KIND/cases.yaml against every proxy kind and version under test,
// one container per proxy version serving all of its cases, and one SNI-only
// backend shared by them all, so that one case id compares proxies.
package proxies_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/suites"
)

// naive (SNIPROOF_NAIVE=1) starts one proxy container per case instead of
// one per proxy version: the benchmark's baseline, never the way to run.
var naive = os.Getenv("SNIPROOF_NAIVE") == "1"

var (
	stack    *harness.Stack
	started  map[string]harness.Started // by "KIND/RELEASE"
	setupErr error
)

// kinds, tables (only the cases of this run's shard) and the known-issue
// ledger are loaded while the spec tree is built. A kind whose table does not
// load is left out, and its error, naming the file and line, fails the run.
var kinds, tables, ledger, loadErr = load()

func load() ([]harness.Kind, map[string][]fixtures.Case, fixtures.Ledger, error) {
	shard, err := suites.ParseShard(os.Getenv("SNIPROOF_SHARD"))
	if err != nil {
		return nil, nil, nil, err
	}
	ledger, err := fixtures.LoadLedger()
	if err != nil {
		return nil, nil, nil, err
	}
	ks, tables, err := suites.ProxyTables(shard)
	return ks, tables, ledger, err
}

func TestProxies(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "proxies")
}

var _ = It("loads the proxy kinds and case tables", func() {
	Expect(loadErr).NotTo(HaveOccurred())
})

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	stack, err = harness.StartStack(ctx, os.Stderr)
	DeferCleanup(func(ctx SpecContext) {
		Expect(run.Close(ctx, stack, reach()...)).To(Succeed(), "remove the run's containers and networks")
	})
	setupErr = err
	Expect(err).NotTo(HaveOccurred(), "start the backend")

	wanted, err := suites.Wanted(GinkgoLabelFilter(), kinds, tables)
	setupErr = err
	Expect(err).NotTo(HaveOccurred())
	if naive {
		return
	}
	started = stack.StartProxies(ctx, wanted, tables)
	// Every proxy version runs its cases at once with the others, a
	// bounded number at a time, from a context that ends with the suite.
	runCtx, stop := context.WithCancel(context.Background())
	DeferCleanup(stop)
	slots := harness.Slots(concurrentCases)
	for _, k := range wanted {
		for _, rel := range k.Releases {
			key := k.Name + "/" + rel
			s := started[key]
			if s.Err != nil {
				if setupErr == nil {
					setupErr = s.Err
				}
				fmt.Fprintf(os.Stderr, "sniproof: %s from %s did not start: %v\n", k.Name, rel, s.Err)
				continue
			}
			s.Runner = stack.CaseRunner(runCtx, s.Proxy, slots)
			started[key] = s
			var ahead []fixtures.Case
			for _, c := range tables[k.Name] {
				if willRun()(k.Name, rel, c) {
					ahead = append(ahead, c)
				}
			}
			s.Runner.Ask(ahead...)
			fmt.Fprintf(os.Stderr, "sniproof: %s %s (%s) serves %d cases at %s\n",
				k.Name, s.Proxy.Version(), rel, len(tables[k.Name]), s.Proxy.BaseURL())
		}
	}
}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

// concurrentCases is how many cases, of different proxy versions, run at
// once: a case mostly waits on the network and on timeouts, so more than
// the cores.
var concurrentCases = 4 * runtime.NumCPU()

// willRun reports whether the spec of case c of kind from rel is in this
// run, as Ginkgo decides it: its labels (the kind's, the release's and the
// case's) match the label filter, and its text the focus and skip
// patterns. A spec it misses still runs: it asks for its case itself.
// The filter and patterns are read once, on the first call (the flags
// are parsed by then).
var willRun = sync.OnceValue(func() func(kind, rel string, c fixtures.Case) bool {
	conf, _ := GinkgoConfiguration()
	match := func([]string) bool { return true }
	if f := conf.LabelFilter; f != "" {
		if m, err := types.ParseLabelFilter(f); err == nil {
			match = m
		}
	}
	compile := func(patterns []string) []*regexp.Regexp {
		var out []*regexp.Regexp
		for _, p := range patterns {
			if re, err := regexp.Compile(p); err == nil {
				out = append(out, re)
			}
		}
		return out
	}
	focus, skip := compile(conf.FocusStrings), compile(conf.SkipStrings)
	matches := func(res []*regexp.Regexp, text string) bool {
		for _, re := range res {
			if re.MatchString(text) {
				return true
			}
		}
		return false
	}
	return func(kind, rel string, c fixtures.Case) bool {
		text := "proxy " + kind + " from " + rel + " " + c.ID + ": " + c.Name
		return match(append([]string{kind, rel}, c.Labels...)) && (len(focus) == 0 || matches(focus, text)) && !matches(skip, text)
	}
})

// reach says how to reach each kept proxy.
func reach() []string {
	var lines []string
	for key, s := range started {
		if s.Proxy != nil && s.Proxy.Container != nil {
			lines = append(lines, fmt.Sprintf("%s: %s (send the case's Host header), docker exec -it %.12s sh",
				key, s.Proxy.BaseURL(), s.Proxy.Container.GetContainerID()))
		}
	}
	return lines
}

var run = suites.NewRun()

var _ = ReportBeforeSuite(run.Start)

var _ = ReportAfterEach(run.SpecDone)

var _ = ReportAfterSuite("records", func(r Report) {
	Expect(suites.Write("proxies", r, setupErr, loadErr, stack.ContainerStarts())).To(Succeed())
})
