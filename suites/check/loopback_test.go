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

// loopbackRel holds configurations whose upstreams are on the proxy's own
// host: TLS sidecars on 127.0.0.1, [::1] and a unix socket.
const loopbackRel = "fixtures/check/loopback"

// hostLocal is what one location or backend of a loopback sample does.
type hostLocal struct {
	location string
	status   int
	sni      string
	cause    string
}

var _ = Describe("sniproof check on host-local upstreams", Label("check"), func() {
	for _, sample := range []struct {
		proxy, file string
		want        []hostLocal
	}{
		{"nginx", "nginx.conf", []hostLocal{
			{"location /orders/", 200, "orders.mesh.internal", ""},
			{"location /payments/", 502, "", check.CauseNoSNI},
			{"location /search/", 200, "search.mesh.internal", ""},
			{"location /ledger/", 200, "ledger.mesh.internal", ""},
		}},
		{"haproxy", "haproxy.cfg", []hostLocal{
			{"backend orders", 200, "orders.mesh.internal", ""},
			{"backend payments", 503, "", check.CauseNoSNI},
		}},
	} {
		It("check/host-local/"+sample.proxy+": each loopback or unix socket upstream is impersonated in the proxy's network namespace and checked", func(ctx SpecContext) {
			rec := &report.Record{ID: "check/host-local/" + sample.proxy, Name: "sniproof check reaches " + sample.proxy + "'s loopback and unix socket upstreams as in production",
				Suite: "check", Proxy: sample.proxy, Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: ""},
				Evidence: report.Evidence{Source: loopbackRel + "/" + sample.file, Reproduce: "bin/sniproof check " + loopbackRel + "/" + sample.file,
					Reason: "a local TLS sidecar is an upstream like any other: the backend takes its address inside the proxy's network namespace (issue: loopback upstreams were skipped)"}}
			AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
			rep, err := run(ctx, check.Options{Config: filepath.Join(root, loopbackRel, sample.file)})
			rec.InfraError = suites.InfraText(err)
			Expect(err).NotTo(HaveOccurred())
			rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
			fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
			Expect(rep.Rejected).To(BeNil())
			Expect(rep.Locations).To(HaveLen(len(sample.want)))
			for i, w := range sample.want {
				l := rep.Locations[i]
				Expect(l.Location).To(Equal(w.location))
				Expect(l.Outcome).NotTo(Equal(check.NotChecked), "%s: %s", l.Location, l.NotChecked)
				Expect(l.Status).To(Equal(w.status), "%s %s: %s", rep.Proxy, l.Location, l.Request)
				Expect(l.SNI).To(HaveValue(Equal(w.sni)), "%s %s: the upstream's SNI", rep.Proxy, l.Location)
				Expect(l.Cause).To(Equal(w.cause), "%s %s", rep.Proxy, l.Location)
				if w.cause != "" {
					Expect(l.Fix).NotTo(BeEmpty(), "a broken location gets a fix")
				}
			}
			Expect(leftovers(ctx, rep.Session)).To(BeEmpty(), "containers, networks and volumes of session %s", rep.Session)
			Expect(rep.ExitCode()).To(Equal(check.ExitFail))
		})
	}
})
