//go:build conformance

// Package proxies_test is the proxy conformance suite: the cases of
// fixtures/KIND/cases.yaml against every proxy kind and version under test,
// one container per proxy version serving all of its cases, and one SNI-only
// backend shared by them all, so that one case id compares proxies.
package proxies_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// underTest are the proxy kinds of this suite: every kind the harness knows.
var underTest = harness.KindNames()

// naive (SNIPROOF_NAIVE=1) starts one proxy container per case instead of
// one per proxy version: the benchmark's baseline, never the way to run.
var naive = os.Getenv("SNIPROOF_NAIVE") == "1"

var (
	stack     *harness.Stack
	started   map[string]harness.Started // by "KIND/RELEASE"
	setupErr  error
	anyFailed atomic.Bool
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
	var ks []harness.Kind
	var errs []error
	tables := map[string][]fixtures.Case{}
	for _, name := range underTest {
		k, err := harness.LookupKind(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := fixtures.Cases(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ks = append(ks, k)
		for _, c := range cs {
			if shard.Has(c.ID) {
				tables[name] = append(tables[name], c)
			}
		}
	}
	return ks, tables, ledger, errors.Join(errs...)
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
	DeferCleanup(closeStack)
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

// closeStack removes the run's containers and networks, unless
// SNIPROOF_KEEP=1 and a case failed: then it says how to reach them.
func closeStack(ctx context.Context) {
	if stack == nil || stack.Session == nil {
		return
	}
	if os.Getenv("SNIPROOF_KEEP") == "1" && anyFailed.Load() {
		fmt.Fprintf(os.Stderr, "sniproof: SNIPROOF_KEEP=1: kept the containers of session %s:\n"+
			"  docker ps --filter label=%s=%s\n  remove them with: bin/sniproof sweep --session %s\n",
			stack.Session.ID, harness.LabelSession, stack.Session.ID, stack.Session.ID)
		if stack.Backend != nil {
			fmt.Fprintf(os.Stderr, "  backend: docker logs %.12s (one JSON line per event)\n", stack.Backend.GetContainerID())
		}
		for key, s := range started {
			if s.Proxy != nil && s.Proxy.Container != nil {
				fmt.Fprintf(os.Stderr, "  %s: %s (send the case's Host header), docker exec -it %.12s sh\n",
					key, s.Proxy.BaseURL(), s.Proxy.Container.GetContainerID())
			}
		}
		return
	}
	Expect(stack.Close(ctx)).To(Succeed(), "remove the run's containers and networks")
}

var progress = suites.NewProgress(os.Stderr, os.Getenv("SNIPROOF_QUIET") == "1")

var _ = ReportBeforeSuite(func(r Report) {
	progress.Start(r.PreRunStats.SpecsThatWillRun)
})

var _ = ReportAfterEach(func(r SpecReport) {
	if r.State.Is(types.SpecStateSkipped | types.SpecStatePending) {
		return
	}
	if r.Failed() {
		anyFailed.Store(true)
	}
	progress.Done(r.Failed())
})

var _ = ReportAfterSuite("records", func(r Report) {
	dir, err := suites.ReportDir()
	Expect(err).NotTo(HaveOccurred())
	if setupErr == nil {
		// A table that does not load must fail the run even when the label
		// filter leaves out the spec that reports it.
		setupErr = loadErr
	}
	s := suites.Suite("proxies", r, setupErr)
	s.ContainerStarts = stack.ContainerStarts()
	Expect(report.WriteSuite(dir, s)).To(Succeed())
})
