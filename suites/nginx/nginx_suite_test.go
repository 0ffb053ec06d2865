//go:build conformance

// Package nginx_test is the nginx conformance suite: every case of
// fixtures/nginx/cases.yaml against real nginx from two Debian releases,
// one container per version serving every case, and one SNI-only backend.
package nginx_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// releases are the Debian releases whose nginx is under test.
var releases = []string{"bookworm", "trixie"}

var (
	stack     *harness.Stack
	proxies   = map[string]*harness.Proxy{}
	setupErr  error
	anyFailed atomic.Bool
)

func TestNginx(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "nginx")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	stack, err = harness.StartStack(ctx, os.Stderr)
	DeferCleanup(closeStack)
	setupErr = err
	Expect(err).NotTo(HaveOccurred(), "start the backend")

	kind, err := harness.LookupKind("nginx")
	Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]error{}
	for _, rel := range releases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := stack.StartProxy(ctx, kind, rel, cases)
			mu.Lock()
			defer mu.Unlock()
			proxies[rel], errs[rel] = n, err
		}()
	}
	wg.Wait()
	for _, rel := range releases {
		if errs[rel] != nil && setupErr == nil {
			setupErr = errs[rel]
		}
		Expect(errs[rel]).NotTo(HaveOccurred(), "start nginx from %s", rel)
		fmt.Fprintf(os.Stderr, "sniproof: nginx %s (%s) serves %d cases at %s\n",
			proxies[rel].Version(), rel, len(cases), proxies[rel].BaseURL())
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
			"  docker ps --filter label=%s=%s\n  remove them with: go run ./cmd/sniproof sweep --session %s\n",
			stack.Session.ID, harness.LabelSession, stack.Session.ID, stack.Session.ID)
		return
	}
	Expect(stack.Close(ctx)).To(Succeed(), "remove the run's containers and networks")
}

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() {
		anyFailed.Store(true)
	}
})

var _ = ReportAfterSuite("records", func(r Report) {
	dir, err := suites.ReportDir()
	Expect(err).NotTo(HaveOccurred())
	Expect(report.WriteSuite(dir, suites.Suite("nginx", r, setupErr))).To(Succeed())
})

// cases is the nginx case table; a table that does not load becomes one
// failing spec naming the file and line.
var cases, casesErr = fixtures.Cases("nginx")

var _ = It("loads the nginx case table", func() {
	Expect(casesErr).NotTo(HaveOccurred())
})
