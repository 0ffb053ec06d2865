//go:build conformance

package proxies_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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
							Expect(s.Err).NotTo(HaveOccurred(), "%s from %s did not start", k.Name, rel)
							p := s.Proxy
							want := c.For(p.Version())
							rec := &report.Record{
								ID: c.ID, Name: c.Name, Suite: "proxies", Proxy: p.Name(), Version: p.Version(), Image: p.Image,
								Expected: want,
								Evidence: report.Evidence{
									Reason:    c.Reason,
									Source:    fmt.Sprintf("%s:%d", c.File, c.Line),
									Config:    p.Standalone[c.ID],
									Reproduce: fmt.Sprintf("make conformance FOCUS='%s' LABELS='%s && %s'", c.ID, k.Name, rel),
								},
							}
							AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)

							obs := &harness.Observation{}
							rec.Observed = obs
							if want.ConfigError != "" {
								code, out, err := p.TestConfig(ctx, c.ID)
								Expect(err).NotTo(HaveOccurred())
								obs.ConfigTest = &harness.ConfigTest{Exit: code, Output: out}
							} else {
								var err error
								*obs, err = stack.Exchange(ctx, p, c)
								Expect(err).NotTo(HaveOccurred())
							}

							last := c.Requests()[len(c.Requests())-1]
							Expect(harness.Judge(want, *obs)).To(BeEmpty(), "%s %s: %s %s http://%s%s:\n%s",
								p.Name(), p.Version(), c.ID, last.Method, last.Host, last.Path, strings.Join(obs.ProxyLog, "\n"))
						})
					}
				})
			}
		})
	}
})
