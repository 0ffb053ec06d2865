//go:build conformance

package check_test

import (
	"fmt"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

func init() {
	samples = append(samples, sample{"check/squid/accel", "squid-openssl", "fixtures/check/squid/squid.conf",
		"sniproof check runs a Debian squid.conf reverse proxy unchanged in squid-openssl: cache_peer_access by host and path, an included conf.d peer, IP peers with and without tls-domain=, a peer verified against the system store",
		"Squid joins check with an adapter of its own, the OpenSSL build by default since the GnuTLS build sends no SNI: one request per tls cache_peer, routed to it by its cache_peer_access rules, the run's CA at tls-cafile= and in the system store (issue 15)",
		[]sampleWant{
			{location: "cache_peer api", status: 503, sni: "", cause: check.CauseNoSNI},
			{location: "cache_peer admin", status: 200, sni: "admin.internal.example"},
			{location: "cache_peer billing", status: 200, sni: "billing.internal.example"},
			{location: "cache_peer storefront", status: 200, sni: "www.shop-cdn.example"},
		}})
}

var _ = It("check/squid/gnutls: --proxy squid runs Debian's squid package, the GnuTLS build, which sends no SNI to any cache_peer", Label("check"), func(ctx SpecContext) {
	const file = "fixtures/check/squid/squid.conf"
	rec := &report.Record{ID: "check/squid/gnutls", Name: "sniproof check --proxy squid: the GnuTLS build sends no SNI, tls-domain= included", Suite: "check",
		Proxy: "squid", Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: ""},
		Evidence: report.Evidence{Source: file, Reproduce: "bin/sniproof check --proxy squid " + file,
			Reason: "Squid sets the SNI only when built with OpenSSL (docs/squid.md): every tls cache_peer of the sample gets no SNI and 503, its fix the OpenSSL build, and lint's SQD001 warns of it (issue 15)"}}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	rep, err := run(ctx, check.Options{Config: filepath.Join(root, file), Proxy: check.ProxySquid})
	rec.InfraError = suites.InfraText(err)
	Expect(err).NotTo(HaveOccurred())
	rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
	fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
	Expect(rep.Rejected).To(BeNil())
	Expect(rep.Proxy).To(Equal("squid"))
	Expect(rep.Locations).To(HaveLen(4))
	for _, l := range rep.Locations {
		Expect(l.Status).To(Equal(503), l.Location)
		Expect(l.SNI).To(HaveValue(Equal("")), "%s: the upstream saw no SNI", l.Location)
		Expect(l.Cause).To(Equal(check.CauseNoSNI), l.Location)
		Expect(l.Fix).To(ContainSubstring("squid-openssl"), l.Location)
		Expect(l.Lint).To(ContainElement(HaveField("Rule", "SQD001")), l.Location)
	}
	Expect(leftovers(ctx, rep.Session)).To(BeEmpty(), "containers, networks and volumes of session %s", rep.Session)
	Expect(rep.ExitCode()).To(Equal(check.ExitFail))
})
