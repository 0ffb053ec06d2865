//go:build conformance

package nginx_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/fixtures"
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
					at := fmt.Sprintf("nginx %s: %s", ng.Version(), c.ID)

					if want.ConfigError != "" {
						code, out, err := ng.TestConfig(ctx, c.ID)
						rec.Observed = &harness.Observation{ConfigTest: &harness.ConfigTest{Exit: code, Output: out}}
						Expect(err).NotTo(HaveOccurred())
						Expect(code).NotTo(BeZero(), "%s: nginx -t accepted the configuration, want it refused with %q", at, want.ConfigError)
						Expect(out).To(ContainSubstring(want.ConfigError), "%s: nginx -t said:\n%s", at, out)
						return
					}

					obs, err := stack.Exchange(ctx, ng, c)
					rec.Observed = &obs
					Expect(err).NotTo(HaveOccurred())

					last := c.Requests()[len(c.Requests())-1]
					at = fmt.Sprintf("nginx %s: %s %s http://%s%s", ng.Version(), c.ID, last.Method, last.Host, last.Path)
					Expect(obs.Status).To(Equal(want.Status), "%s: status %d want %d (client error: %q)", at, obs.Status, want.Status, obs.Error)
					Expect(obs.Backend).To(Equal(want.Backend), "%s: backend %s the handshake, want %s", at, obs.Backend, want.Backend)
					if want.Reason != "" {
						Expect(obs.Reason).To(ContainSubstring(want.Reason), "%s: backend's reason %q want %q", at, obs.Reason, want.Reason)
					}
					if want.SNI != nil {
						Expect(obs.SNI).NotTo(BeNil(), "%s: no ClientHello reached the backend, want SNI %q", at, *want.SNI)
						Expect(*obs.SNI).To(Equal(*want.SNI), "%s: backend saw SNI %q want %q", at, *obs.SNI, *want.SNI)
					}
					if want.Backend == fixtures.BackendUntouched {
						Expect(obs.Events).To(BeEmpty(), "%s: want nothing to reach the backend", at)
					}
					if want.Connections != nil {
						Expect(obs.Connections).To(Equal(*want.Connections), "%s: backend completed %d handshakes want %d", at, obs.Connections, *want.Connections)
					}
					if want.Resumed != nil {
						Expect(obs.Resumed).To(Equal(*want.Resumed), "%s: last session resumed %v want %v", at, obs.Resumed, *want.Resumed)
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
