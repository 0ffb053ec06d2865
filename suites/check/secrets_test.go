//go:build conformance

package check_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// secretsRel holds configurations with credentials inline, each value
// planted as a canary: a string holding "CANARY" that no byte sniproof
// writes may contain.
const secretsRel = "fixtures/check/secrets"

// canary matches every planted secret; the $6$ hash's salt holds it too.
var canary = regexp.MustCompile(`CANARY[A-Za-z0-9_=-]*`)

// output is what one sniproof command wrote: stdout, stderr and the files
// it was told to write.
type output struct {
	args  []string
	code  int
	bytes []byte
}

var _ = Describe("sniproof check, lint and probe keep credentials out of every output", Label("check", "security"), Ordered, func() {
	var bin string
	var outputs []output

	BeforeAll(func(ctx SpecContext) {
		bin = filepath.Join(GinkgoT().TempDir(), "sniproof")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sniproof")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build: %s", out)
	})

	// sniproof runs the CLI from the module root and keeps every byte it
	// wrote, the files named after --out included.
	sniproof := func(ctx SpecContext, args ...string) output {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = root
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			Expect(err).NotTo(HaveOccurred())
		}
		for i, a := range args {
			if a == "--out" {
				data, err := os.ReadFile(args[i+1])
				Expect(err).NotTo(HaveOccurred(), "the report %s", args[i+1])
				b.Write(data)
			}
		}
		fmt.Fprintf(GinkgoWriter, "$ sniproof %s (exit %d)\n%s\n", strings.Join(args, " "), code, b.String())
		o := output{args: args, code: code, bytes: b.Bytes()}
		outputs = append(outputs, o)
		return o
	}

	It("check/secrets/planted: the samples hold the canaries in every credential-bearing shape", func() {
		var planted []string
		for _, f := range []string{"nginx.conf", "haproxy.cfg", "expect.yaml"} {
			data, err := os.ReadFile(filepath.Join(root, secretsRel, f))
			Expect(err).NotTo(HaveOccurred())
			planted = append(planted, canary.FindAllString(string(data), -1)...)
		}
		Expect(len(planted)).To(BeNumerically(">=", 13), "canaries planted: %q", planted)
	})

	// kept is a redacted directive of a checked location's block, its
	// name kept.
	for _, proxy := range []struct{ name, file, kept string }{
		{"nginx", "nginx.conf", `proxy_set_header Authorization "REDACTED";`},
		{"haproxy", "haproxy.cfg", `http-request set-header Cookie "REDACTED"`},
	} {
		It("check/secrets/"+proxy.name+": text, --json, --out and --baseline name the directives and hold no canary", func(ctx SpecContext) {
			rec := &report.Record{ID: "check/secrets/" + proxy.name, Name: "sniproof check on a " + proxy.name + " configuration with inline credentials writes none of them",
				Suite: "check", Proxy: proxy.name, Release: "bookworm", Judged: true, Expected: fixtures.Expect{Status: 0, Backend: ""},
				Evidence: report.Evidence{Source: secretsRel + "/" + proxy.file, Reproduce: "bin/sniproof check " + secretsRel + "/" + proxy.file + " --json --out report.json",
					Reason: "operators attach check's output to CI runs and commit its JSON as a baseline: credential values are redacted, their names kept (redact package)"}}
			AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
			config := filepath.Join(root, secretsRel, proxy.file)
			first := filepath.Join(GinkgoT().TempDir(), "report.json")
			o := sniproof(ctx, "check", config, "--json", "--out", first)
			Expect(o.code).NotTo(Equal(check.ExitInfra), "%s", o.bytes)
			rep, err := check.LoadReport(first)
			Expect(err).NotTo(HaveOccurred())
			suites.Started(rep.Containers)
			Expect(rep.Locations).NotTo(BeEmpty())
			var configs strings.Builder
			for _, l := range rep.Locations {
				configs.WriteString(l.Config)
			}
			Expect(configs.String()).To(ContainSubstring(proxy.kept), "the directive stays, its value goes")

			again := sniproof(ctx, "check", config, "--baseline", first)
			Expect(string(again.bytes)).To(ContainSubstring("no behaviour change since"), "the baseline diff works on a redacted report")
			if proxy.name == "nginx" {
				q := sniproof(ctx, "check", config, "--expect", filepath.Join(root, secretsRel, "expect.yaml"), "--json")
				Expect(string(q.bytes)).To(ContainSubstring("access_token=REDACTED"), "the request's query is reported, redacted")
			}
			for _, format := range []string{"text", "sarif"} {
				l := sniproof(ctx, "lint", "--format", format, config)
				Expect(l.code).To(Equal(1), "lint finds the pitfalls: %s", l.bytes)
				if format == "sarif" {
					Expect(json.Valid(bytes.TrimSpace(bytes.SplitN(l.bytes, []byte("\nsniproof lint:"), 2)[0]))).To(BeTrue(), "SARIF stays JSON")
				}
			}
			for _, o := range outputs {
				leaked := canary.FindAllString(string(o.bytes), -1)
				if len(leaked) > 0 {
					rec.Differences = append(rec.Differences, "sniproof "+strings.Join(o.args, " ")+" wrote "+strings.Join(leaked, ", "))
				}
			}
			Expect(rec.Differences).To(BeEmpty())
		})
	}

	It("check/secrets/probe: a target with user:password@ is never echoed", func(ctx SpecContext) {
		for _, args := range [][]string{{"probe", "https://ops:CANARY-probe-userinfo@127.0.0.1:1"}, {"probe", "--json", "https://ops:CANARY-probe-json@127.0.0.1:1"}} {
			o := sniproof(ctx, args...)
			Expect(o.bytes).NotTo(BeEmpty())
			Expect(canary.FindAllString(string(o.bytes), -1)).To(BeEmpty(), "sniproof %s wrote:\n%s", strings.Join(args, " "), o.bytes)
		}
	})
})
