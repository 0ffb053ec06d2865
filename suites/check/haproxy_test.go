//go:build conformance

package check_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// The HAProxy sample and its expectations, relative to the module root.
const (
	haSampleRel = "fixtures/check/haproxy"
	haExpectRel = haSampleRel + "/expect.yaml"
	haEditRel   = haSampleRel + "/edit.yaml"
	haReproduce = "bin/sniproof check " + haSampleRel + "/haproxy.cfg --expect " + haExpectRel
)

// The HAProxy sample naming its files by relative paths (project issue
// 18), relative to the module root.
const haRelativeRel = "fixtures/check/haproxy-relative"

// haEntries are the HAProxy sample's expectations, one spec each.
var haEntries, haEntriesErr = func() ([]check.Entry, error) {
	if rootErr != nil {
		return nil, rootErr
	}
	return check.LoadExpectations(filepath.Join(root, haExpectRel))
}()

// haRecordID is a backend's case id: check/haproxy/backend/NAME.
func haRecordID(l check.Location) string {
	return "check/haproxy/" + slug(strings.ReplaceAll(l.Location, " ", "/"))
}

// haRecord is a record of the HAProxy sample.
func haRecord(id, name string, want fixtures.Expect, ev report.Evidence) *report.Record {
	rec := &report.Record{ID: id, Name: name, Suite: "check", Proxy: "haproxy", Release: "bookworm", Expected: want, Evidence: ev}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	return rec
}

var _ = It("loads the HAProxy sample's expectations", Label("check", "haproxy"), func() {
	Expect(haEntriesErr).NotTo(HaveOccurred())
	Expect(haEntries).NotTo(BeEmpty())
})

var _ = Describe("sniproof check on the HAProxy sample", Label("check", "haproxy"), Ordered, func() {
	var first *check.Report
	var firstJSON string

	BeforeAll(func(ctx SpecContext) {
		Expect(haEntriesErr).NotTo(HaveOccurred())
		first, firstJSON = checkFirst(ctx, check.Options{Config: filepath.Join(root, haSampleRel, "haproxy.cfg"), Expect: filepath.Join(root, haExpectRel)})
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*3))

	for _, e := range haEntries {
		It(fmt.Sprintf("%s gets %s (%s)", e.Request.String(), e.Expect, e.Source[strings.LastIndex(e.Source, "fixtures/"):]), func() {
			rec := haRecord("check/haproxy/"+slug(e.Request.Host+e.Request.Path), "sniproof check (HAProxy): "+e.Request.String(),
				fixtures.Expect{Status: *e.Expect.Status, Backend: backendFor(e.Expect.Cause), SNI: e.Expect.SNI},
				report.Evidence{Source: strings.TrimPrefix(e.Source, root+"/"), Reproduce: haReproduce,
					Reason: haExpectRel + " records what the sample's backend does; lint agrees (see check/haproxy/lint-agrees)"})
			judgeEntry(rec, first, e, haRecordID, "sniproof check (HAProxy)", ContainSubstring("server "))
		})
	}

	It("check/haproxy/lint-agrees: every HAP001 and HAP004 finding is at a server line of a backend check finds failing, and every failing backend has one", func() {
		rec := haRecord("check/haproxy/lint-agrees", "sniproof check and sniproof lint agree on the HAProxy sample", fixtures.Expect{},
			report.Evidence{Source: haSampleRel, Reproduce: haReproduce,
				Reason: "lint predicts from the configuration, check observes it in HAProxy: they must name the same server lines"})
		Expect(first).NotTo(BeNil(), "the check of the HAProxy sample did not run")
		rec.Version, rec.Image, rec.Judged = first.Version, first.Image, true
		var failing, flagged []string
		for _, l := range first.Locations {
			if l.Outcome == check.Broken {
				failing = append(failing, l.PassAt)
			}
		}
		for _, f := range first.Lint {
			if f.Rule == "HAP001" || f.Rule == "HAP004" {
				flagged = append(flagged, f.At)
			}
		}
		slices.Sort(failing)
		slices.Sort(flagged)
		if !slices.Equal(failing, flagged) {
			rec.Differences = []string{fmt.Sprintf("check finds failing %q, lint flags %q", failing, flagged)}
		}
		Expect(failing).To(HaveLen(3))
		Expect(failing).To(Equal(flagged), "server lines of failing backends vs lint's HAP001 and HAP004 findings")
	})

	It("check/haproxy/baseline/edit: after an edit that breaks one backend, --baseline reports that one change", func(ctx SpecContext) {
		rec := haRecord("check/haproxy/baseline/edit", "sniproof check --baseline reports the one HAProxy backend an edit breaks",
			fixtures.Expect{Status: 503, Backend: fixtures.BackendRefused, SNI: ptr("")},
			report.Evidence{Source: haEditRel, Reproduce: haReproduce + " --out first.json; (apply " + haEditRel + "); " + haReproduce + " --baseline first.json",
				Reason: "the baseline diff is the regression test across a configuration edit"})
		baselineEdit(ctx, rec, first, firstJSON, haSampleRel, "haproxy.cfg", haEditRel, haExpectRel, ContainSubstring("sni str(www.shop-cdn.example)"))
	})

	It("check/haproxy/upgrade: the sample in HAProxy 3.0 (trixie), with the HAProxy 2.6 run as baseline, behaves the same", func(ctx SpecContext) {
		upgrade(ctx, "check/haproxy/upgrade", "HAProxy 2.6 to 3.0", first, firstJSON, check.Options{
			Config: filepath.Join(root, haSampleRel, "haproxy.cfg"), Expect: filepath.Join(root, haExpectRel)}, haReproduce)
	})

	It("check/haproxy/rejected-config: a configuration HAProxy rejects gets HAProxy's own message with the file and line, lint's HAP005 beside it, and nothing is left running", func(ctx SpecContext) {
		const want = "verify is enabled by default but no CA file specified"
		rec := haRecord("check/haproxy/rejected-config", "sniproof check on an HAProxy configuration HAProxy rejects",
			fixtures.Expect{ConfigError: want},
			report.Evidence{Source: haSampleRel + "/haproxy.cfg:42", Config: "server api1 api.shop.example:8443 ssl",
				Reproduce: "bin/sniproof check DIR/haproxy.cfg (the HAProxy sample without verify none on server api1)",
				Reason:    "haproxy -c runs first; its own message, with the file and line, is the verdict"})
		dir := copyFolder(haSampleRel)
		file := filepath.Join(dir, "haproxy.cfg")
		content, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		edited := strings.Replace(string(content), "api.shop.example:8443 ssl verify none", "api.shop.example:8443 ssl", 1)
		Expect(edited).NotTo(Equal(string(content)))
		Expect(os.WriteFile(file, []byte(edited), 0o644)).To(Succeed())

		rep, err := run(ctx, check.Options{Config: dir})
		rec.InfraError = suites.InfraText(err)
		Expect(err).NotTo(HaveOccurred())
		rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
		Expect(rep.Proxy).To(Equal(check.ProxyHAProxy), "a folder holding haproxy.cfg is an HAProxy configuration")
		Expect(rep.Rejected).NotTo(BeNil(), "HAProxy rejects it")
		rec.Observed = &harness.Observation{ConfigTest: &harness.ConfigTest{Exit: rep.Rejected.Exit, Output: rep.Rejected.Output}}
		fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
		Expect(rep.Rejected.Output).To(ContainSubstring(want))
		Expect(rep.Rejected.Output).To(ContainSubstring("[/etc/haproxy/haproxy.cfg:42]"))
		Expect(rep.Rejected.At).To(Equal("haproxy.cfg:42"))
		Expect(rep.Lint).To(ContainElement(HaveField("Rule", "HAP005")))
		Expect(rep.Locations).To(BeEmpty(), "no request is sent")
		Expect(rep.ExitCode()).To(Equal(check.ExitFail))
		Expect(leftovers(ctx, rep.Session)).To(BeEmpty(), "containers and networks of session %s", rep.Session)
	})
})

var _ = Describe("sniproof check on an HAProxy configuration with relative paths", Label("check", "haproxy"), func() {
	It("check/haproxy/relative-paths: relative crt and ca-file paths get their stand-ins where HAProxy opens them, under the working directory its service gives it, and the backends get their verdicts", func(ctx SpecContext) {
		rec := haRecord("check/haproxy/relative-paths", "sniproof check on an HAProxy configuration naming its files by relative paths",
			fixtures.Expect{Status: 200, Backend: fixtures.BackendServed, SNI: ptr("app.upstream.example")},
			report.Evidence{Source: haRelativeRel + "/haproxy.cfg:26", Config: "bind :443 ssl crt fullcert.pem",
				Reproduce: "bin/sniproof check " + haRelativeRel + "/haproxy.cfg",
				Reason:    "HAProxy resolves a relative crt or ca-file without crt-base or ca-base against its working directory, / under systemd: check's stand-ins go there, and lint's HAP006 warns"})
		rep, err := run(ctx, check.Options{Config: filepath.Join(root, haRelativeRel, "haproxy.cfg")})
		rec.InfraError = suites.InfraText(err)
		Expect(err).NotTo(HaveOccurred())
		rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
		fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
		if rep.Rejected != nil {
			rec.Observed = &harness.Observation{ConfigTest: &harness.ConfigTest{Exit: rep.Rejected.Exit, Output: rep.Rejected.Output}}
		}
		Expect(rep.Rejected).To(BeNil(), "HAProxy accepts the configuration with the stand-ins where it opens them")
		Expect(rep.Notes).To(ContainElement(HavePrefix("haproxy runs with working directory / as the image's haproxy.service (")))
		Expect(rep.Notes).To(ContainElement(HavePrefix("crt /fullcert.pem (haproxy.cfg:26, fullcert.pem relative to HAProxy's working directory) is missing: check made a throwaway certificate")))
		Expect(rep.Notes).To(ContainElement("the run's CA was written at /ca-certificates.crt (ca-file at haproxy.cfg:35, ca-certificates.crt relative to HAProxy's working directory), so that HAProxy trusts the backend's certificate"))

		want := map[string]string{
			"backend be_app":    "works 200 SNI app.upstream.example",
			"backend be_legacy": "broken 503 SNI none: no-sni",
		}
		// The request to the DOWN server reaches no upstream: the upstream
		// sees no ClientHello, or no SNI when one of the server's health
		// checks falls in the request's time; both are "none" here.
		got := map[string]string{}
		for _, l := range rep.Locations {
			sni := "none"
			if l.SNI != nil && *l.SNI != "" {
				sni = *l.SNI
			}
			got[l.Location] = fmt.Sprintf("%s %d SNI %s", l.Outcome, l.Status, sni)
			if l.Cause != "" {
				got[l.Location] += ": " + l.Cause
			}
			if l.Location == "backend be_app" {
				rec.Observed = l.Observed
			}
		}
		for loc, w := range want {
			if got[loc] != w {
				rec.Differences = append(rec.Differences, fmt.Sprintf("%s: %s, want %s", loc, got[loc], w))
			}
		}
		Expect(got).To(Equal(want))

		var relative []string
		for _, f := range rep.Lint {
			if f.Rule == "HAP006" {
				relative = append(relative, f.At)
			}
		}
		Expect(relative).To(Equal([]string{"haproxy.cfg:26", "haproxy.cfg:35"}), "lint's HAP006 at the bind and the server line")
	})
})
