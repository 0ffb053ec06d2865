//go:build conformance

// Package proxies_test is the proxy conformance suite: the cases of
// fixtures/KIND/cases.yaml against every proxy kind and version under test,
// one container per proxy version serving all of its cases, and one SNI-only
// backend shared by them all, so that one case id compares proxies.
package proxies_test

import (
	"fmt"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
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
	for _, k := range wanted {
		for _, rel := range k.Releases {
			s := started[k.Name+"/"+rel]
			if s.Err != nil {
				if setupErr == nil {
					setupErr = s.Err
				}
				fmt.Fprintf(os.Stderr, "sniproof: %s from %s did not start: %v\n", k.Name, rel, s.Err)
				continue
			}
			fmt.Fprintf(os.Stderr, "sniproof: %s %s (%s) serves %d cases at %s\n",
				k.Name, s.Proxy.Version(), rel, len(tables[k.Name]), s.Proxy.BaseURL())
		}
	}
}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

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
