//go:build conformance

package clients_test

import (
	"encoding/json"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/probe"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// sniproof probe, run where a client runs, diagnoses the field report's
// upstream from the two handshakes a person would try with openssl.
var _ = It("clients/probe/field-report: sniproof probe finds that www.xx.test requires SNI and refuses without it with alert 80", Label("clients", "probe"), func(ctx SpecContext) {
	cmd := []string{harness.ClientBinaryPath, "probe", "www.xx.test:443", "--ca", harness.ClientCAPath, "--json"}
	rec := &report.Record{
		ID: "clients/probe/field-report", Name: "sniproof probe diagnoses the field report's upstream",
		Suite: "clients", Proxy: "sniproof probe", Version: "bundled", Release: "bookworm", Judged: true,
		Evidence: report.Evidence{
			Reason:    "the field report's manual diagnosis (openssl s_client without and with -servername), automated",
			Source:    "suites/clients/probe_test.go",
			Config:    fmt.Sprint(cmd),
			Reproduce: "make conformance LABELS='clients && probe'",
		},
	}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	Expect(setupErr).NotTo(HaveOccurred())
	run, err := client.Run(ctx, cmd)
	Expect(err).NotTo(HaveOccurred())
	Expect(run.Exit).To(BeZero(), "sniproof probe: %s", run.Stderr)
	var rep probe.Report
	Expect(json.Unmarshal([]byte(run.Stdout), &rep)).To(Succeed(), run.Stdout)
	rec.Observed = &harness.Observation{Responses: []harness.Response{{Host: "www.xx.test:443", Body: run.Stdout}}}
	Expect(rep.Verdict.Kind).To(Equal(probe.VerdictKind("requires-sni")), rep.Verdict.Summary)
	none := rep.Handshake(probe.HandshakeKind("no-sni"))
	Expect(none).NotTo(BeNil())
	Expect(none.Alert).NotTo(BeNil(), "the handshake without SNI got no alert")
	Expect(none.Alert.Code).To(Equal(80))
	Expect(rep.Fixes).NotTo(BeEmpty())
})
