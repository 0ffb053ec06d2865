//go:build conformance

package proxies_test

import (
	"fmt"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

var _ = Describe("proxy", func() {
	for _, k := range kinds {
		Describe(k.Name, Label(k.Name), func() {
			for _, rel := range k.Releases {
				Context("from "+rel, Label(rel), func() {
					for _, c := range tables[k.Name] {
						It(c.ID+": "+c.Name, Label(c.Labels...), func(ctx SpecContext) {
							s := started[k.Name+"/"+rel]
							if naive {
								s.Proxy, s.Err = stack.StartProxy(ctx, k, rel, []fixtures.Case{c})
								if s.Proxy != nil && s.Proxy.Container != nil {
									DeferCleanup(s.Proxy.Container.Terminate)
								}
							}
							if s.Err != nil {
								AddReportEntry(suites.RecordEntry, &report.Record{ID: c.ID, Name: c.Name, Suite: "proxies", Proxy: k.Name,
									Release: rel, InfraError: s.Err.Error(), Evidence: report.Evidence{Reason: c.Reason, Source: fmt.Sprintf("%s:%d", c.File, c.Line)}},
									ReportEntryVisibilityNever)
							}
							Expect(s.Err).NotTo(HaveOccurred(), "%s from %s did not start", k.Name, rel)
							p := s.Proxy
							want := c.For(p.Version()).Expand(stack.BackendIP)
							rec := &report.Record{
								ID: c.ID, Name: c.Name, Suite: "proxies", Proxy: p.Name(), Version: p.Version(), Release: rel, Image: p.Image, Packages: p.Packages(),
								Expected: want,
								Evidence: report.Evidence{
									Reason:    c.Reason,
									Source:    fmt.Sprintf("%s:%d", c.File, c.Line),
									Config:    p.Standalone[c.ID],
									Reproduce: fmt.Sprintf("make conformance FOCUS='%s' LABELS='%s && %s'", c.ID, k.Name, rel),
								},
							}
							AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
							if os.Getenv("SNIPROOF_FAULT") == "panic:"+c.ID {
								panic("fault injected by SNIPROOF_FAULT for the reliability suite")
							}

							obs := &harness.Observation{}
							rec.Observed = obs
							var err error
							if naive {
								*obs, err = harness.RunCase(ctx, stack, p, c)
							} else {
								*obs, err = s.Runner.Result(ctx, c)
							}
							rec.InfraError = suites.InfraText(err)
							Expect(err).NotTo(HaveOccurred())

							rec.Differences, rec.Judged = harness.Judge(want, *obs), true
							last := c.Requests()[len(c.Requests())-1]
							at := fmt.Sprintf("%s %s: %s %s http://%s%s", p.Name(), p.Version(), c.ID, last.Method, last.Host, last.Path)
							if known := ledger.Lookup(c.ID, p.Name(), p.Version()); known != nil {
								rec.Ledger = known.Reason
								Expect(rec.Differences).NotTo(BeEmpty(),
									"%s: XPASS: passes, but %s:%d expects it to fail (%s): remove the entry", at, fixtures.Source("ledger.yaml"), known.Line, known.Reason)
								return
							}
							Expect(rec.Differences).To(BeEmpty(), "%s:\n%s", at, strings.Join(obs.ProxyLog, "\n"))
						})
					}
				})
			}
		})
	}
})
