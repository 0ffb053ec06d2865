//go:build conformance

package nginx_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

var _ = Describe("nginx", Label("nginx"), func() {
	for _, rel := range releases {
		Context("from Debian "+rel, Label(rel), func() {
			for _, c := range cases {
				It(c.ID+": "+c.Name, Label(c.Labels...), func(ctx SpecContext) {
					ng := proxies[rel]
					want := c.For(ng.Version())
					rec := &report.Record{
						ID: c.ID, Name: c.Name, Suite: "nginx", Proxy: ng.Name(), Version: ng.Version(), Image: ng.Image,
						Expected: want,
						Evidence: report.Evidence{
							Reason:    c.Reason,
							Source:    fmt.Sprintf("%s:%d", c.File, c.Line),
							Config:    ng.Standalone[c.ID],
							Reproduce: fmt.Sprintf("make conformance FOCUS='%s' LABELS='%s'", c.ID, rel),
						},
					}
					AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)

					obs, err := stack.Exchange(ctx, ng, c.Personality, c.Request)
					rec.Observed = &obs
					Expect(err).NotTo(HaveOccurred())

					at := fmt.Sprintf("nginx %s: %s http://%s%s", ng.Version(), c.Request.Method, c.Request.Host, c.Request.Path)
					Expect(obs.Status).To(Equal(want.Status), "%s: status %d want %d (client error: %q)", at, obs.Status, want.Status, obs.Error)
					Expect(obs.Backend).To(Equal(want.Backend), "%s: backend %s the handshake, want %s", at, obs.Backend, want.Backend)
					if want.Reason != "" {
						Expect(obs.Reason).To(Equal(want.Reason), "%s: backend's reason %q want %q", at, obs.Reason, want.Reason)
					}
					if want.SNI != nil {
						Expect(obs.SNI).NotTo(BeNil(), "%s: no ClientHello reached the backend, want SNI %q", at, *want.SNI)
						Expect(*obs.SNI).To(Equal(*want.SNI), "%s: backend saw SNI %q want %q", at, *obs.SNI, *want.SNI)
					}
					for _, phrase := range want.Log {
						Expect(obs.ProxyLog).To(ContainElement(ContainSubstring(phrase)),
							"%s: nginx's log has no line with %q:\n%s", at, phrase, strings.Join(obs.ProxyLog, "\n"))
					}
					Expect(harness.AlertLines(obs.ProxyLog)).To(BeEmpty(), "%s: nginx logged [alert] or [emerg]", at)
				})
			}
		})
	}
})
