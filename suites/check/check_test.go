//go:build conformance

package check_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	"go.yaml.in/yaml/v3"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// The sample and its expectations, as the README shows them, relative to
// the module root.
const (
	sampleRel = "fixtures/check/sample"
	expectRel = "fixtures/check/expect.yaml"
	editRel   = "fixtures/check/edit.yaml"
	reproduce = "bin/sniproof check " + sampleRel + "/nginx.conf --expect " + expectRel
)

var root, rootErr = harness.ModuleRoot()

// entries are the sample's expectations, one spec each, loaded while the
// spec tree is built.
var entries, entriesErr = func() ([]check.Entry, error) {
	if rootErr != nil {
		return nil, rootErr
	}
	return check.LoadExpectations(filepath.Join(root, expectRel))
}()

// edit is fixtures/check/edit.yaml: the edit of the sample that breaks one
// location, and the change check must report.
type edit struct {
	File   string `yaml:"file"`
	Before string `yaml:"before"`
	// Insert goes on its own line before Before; With replaces it.
	Insert string `yaml:"insert"`
	With   string `yaml:"with"`
	Change string `yaml:"change"`
}

var _ = It("loads the sample's expectations", Label("check"), func() {
	Expect(entriesErr).NotTo(HaveOccurred())
	Expect(entries).NotTo(BeEmpty())
})

var _ = Describe("sniproof check on the sample", Label("check"), Ordered, func() {
	var first *check.Report
	var firstJSON string

	BeforeAll(func(ctx SpecContext) {
		Expect(entriesErr).NotTo(HaveOccurred())
		first, firstJSON = checkFirst(ctx, check.Options{Config: filepath.Join(root, sampleRel, "nginx.conf"), Expect: filepath.Join(root, expectRel)})
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*3))

	for _, e := range entries {
		It(fmt.Sprintf("%s gets %s (%s)", e.Request.String(), e.Expect, e.Source[strings.LastIndex(e.Source, "fixtures/"):]), func() {
			rec := &report.Record{Suite: "check", Proxy: "nginx", Release: "bookworm", Judged: true,
				ID: "check/" + slug(e.Request.Host+e.Request.Path), Name: "sniproof check: " + e.Request.String(),
				Expected: fixtures.Expect{Status: *e.Expect.Status, Backend: backendFor(e.Expect.Cause), SNI: e.Expect.SNI},
				Evidence: report.Evidence{Source: strings.TrimPrefix(e.Source, root+"/"), Reproduce: reproduce,
					Reason: "fixtures/check/expect.yaml records what the sample's location does; lint agrees (see check/lint-agrees)"}}
			AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
			judgeEntry(rec, first, e, recordID, "sniproof check", Not(BeEmpty()))
		})
	}

	It("check/lint-agrees: every lint SNI001, SNI002 and SNI003 finding is at a location check finds refused for its SNI, and every such location has one", func(ctx SpecContext) {
		rec := &report.Record{ID: "check/lint-agrees", Name: "sniproof check and sniproof lint agree on the sample", Suite: "check",
			Proxy: "nginx", Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: ""},
			Evidence: report.Evidence{Source: sampleRel, Reproduce: "bin/sniproof check " + sampleRel + "/nginx.conf",
				Reason: "lint predicts from the configuration, check observes it in nginx: they must name the same locations"}}
		AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
		// Without expectations: check makes up each location's request.
		rep, err := run(ctx, check.Options{Config: filepath.Join(root, sampleRel, "nginx.conf")})
		rec.InfraError = suites.InfraText(err)
		Expect(err).NotTo(HaveOccurred())
		rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
		var failing, flagged []string
		for _, l := range rep.Locations {
			// lint predicts refusals for the SNI; /assets/ fails for want
			// of a resolver, which is no SNI pitfall.
			if l.Outcome == check.Broken && (l.Cause == check.CauseNoSNI || l.Cause == check.CauseWrongName) {
				failing = append(failing, l.PassAt)
			}
		}
		for _, f := range rep.Lint {
			if f.Rule == "SNI001" || f.Rule == "SNI002" || f.Rule == "SNI003" {
				flagged = append(flagged, f.At)
			}
		}
		slices.Sort(failing)
		slices.Sort(flagged)
		if !slices.Equal(failing, flagged) {
			rec.Differences = []string{fmt.Sprintf("check finds failing %q, lint flags %q", failing, flagged)}
		}
		Expect(failing).NotTo(BeEmpty())
		Expect(failing).To(Equal(flagged), "passes check finds failing vs lint's SNI001-SNI003 findings")
		Expect(rep.ExitCode()).To(Equal(check.ExitFail), "locations fail: exit 1")
	})

	It("check/baseline/edit: after an edit that breaks one location, --baseline reports that one change", func(ctx SpecContext) {
		rec := &report.Record{ID: "check/baseline/edit", Name: "sniproof check --baseline reports the one location an edit breaks", Suite: "check",
			Proxy: "nginx", Release: "bookworm", Expected: fixtures.Expect{Status: 502, Backend: fixtures.BackendRefused, SNI: ptr("")},
			Evidence: report.Evidence{Source: editRel, Reproduce: reproduce + " --out first.json; (apply " + editRel + "); " + reproduce + " --baseline first.json",
				Reason: "the baseline diff is the regression test across a configuration edit"}}
		AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
		baselineEdit(ctx, rec, first, firstJSON, sampleRel, "nginx.conf", editRel, expectRel, HavePrefix("proxy_ssl_server_name on;"))
	})

	It("check/concurrent: two checks of the sample at once on one engine: one waits for the subnets the other impersonates, and both report what the first check did", func(ctx SpecContext) {
		rec := &report.Record{ID: "check/concurrent", Name: "two sniproof checks of one configuration at the same time on one Docker engine agree with a check alone", Suite: "check",
			Proxy: "nginx", Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: ""},
			Evidence: report.Evidence{Source: sampleRel, Reproduce: reproduce + " --baseline first.json & " + reproduce + " --baseline first.json",
				Reason: "CI runners share an engine: a check whose upstream address another check impersonates waits for that check's network rather than leave the location not checked (check/run.go, takeSubnets)"}}
		AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
		opts := check.Options{Config: filepath.Join(root, sampleRel, "nginx.conf"), Expect: filepath.Join(root, expectRel), Baseline: firstJSON}
		reps := make([]*check.Report, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range reps {
			wg.Go(func() {
				defer GinkgoRecover()
				reps[i], errs[i] = run(ctx, opts)
			})
		}
		wg.Wait()
		waited := 0
		for i, rep := range reps {
			Expect(errs[i]).NotTo(HaveOccurred(), "check %d of 2", i+1)
			Expect(rep.Changes).To(BeEmpty(), "check %d of 2 against the first check's report", i+1)
			Expect(rep.Summary).To(Equal(first.Summary), "check %d of 2", i+1)
			if slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "the check waited ") }) {
				waited++
			}
		}
		// Both may wait, for a third check's network first.
		Expect(waited).To(BeNumerically(">=", 1), "one check waits for the other's subnets:\n%s\n%s", strings.Join(reps[0].Notes, "\n"), strings.Join(reps[1].Notes, "\n"))
	})

	It("check/upgrade: the sample in nginx 1.26 (trixie), with the nginx 1.22 run as baseline, behaves the same", func(ctx SpecContext) {
		upgrade(ctx, "check/upgrade", "nginx 1.22 to 1.26", first, firstJSON, check.Options{
			Config: filepath.Join(root, sampleRel, "nginx.conf"), Expect: filepath.Join(root, expectRel)}, reproduce)
	})

	It("check/unreadable-file: a configuration that cannot be read is one clear sentence, before anything starts", func(ctx SpecContext) {
		rec := &report.Record{ID: "check/unreadable-file", Name: "sniproof check on a file it cannot read", Suite: "check",
			Proxy: "nginx", Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: "", ConfigError: "permission denied"},
			Evidence: report.Evidence{Source: "a mode 000 nginx.conf", Reproduce: "chmod 000 nginx.conf; bin/sniproof check nginx.conf",
				Reason: "bad input is one sentence with a documented exit code (64)"}}
		AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
		dir := GinkgoT().TempDir()
		Expect(os.Chmod(dir, 0o755)).To(Succeed())
		file := filepath.Join(dir, "nginx.conf")
		Expect(os.WriteFile(file, []byte("events {}\n"), 0o000)).To(Succeed())

		msg := unreadable(file)
		rec.Judged = true
		if first != nil {
			rec.Version, rec.Image = first.Version, first.Image
		}
		rec.Observed = &harness.Observation{ConfigTest: &harness.ConfigTest{Exit: check.ExitUsage, Output: msg}}
		Expect(msg).To(Equal("cannot read the configuration " + file + ": permission denied"))
		Expect(msg).NotTo(ContainSubstring("\n"))
	})
})

var _ = Describe("sniproof check with bad input", Label("check"), func() {
	It("check/rejected-config: a configuration nginx rejects gets nginx's own message with the file and line, and nothing is left running", func(ctx SpecContext) {
		const want = `invalid value "maybe" in "proxy_ssl_server_name" directive`
		rec := &report.Record{ID: "check/rejected-config", Name: "sniproof check on a configuration nginx rejects", Suite: "check",
			Proxy: "nginx", Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: "", ConfigError: want},
			Evidence: report.Evidence{Source: sampleRel + "/sites-enabled/admin.conf:8", Config: "proxy_ssl_server_name maybe;",
				Reproduce: "bin/sniproof check DIR/nginx.conf (the sample with proxy_ssl_server_name maybe;)",
				Reason:    "nginx -t runs first; its own message, with the file and line, is the verdict"}}
		AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
		dir := copyFolder(sampleRel)
		admin := filepath.Join(dir, "sites-enabled", "admin.conf")
		content, err := os.ReadFile(admin)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(admin, []byte(strings.Replace(string(content), "proxy_ssl_server_name off;", "proxy_ssl_server_name maybe;", 1)), 0o644)).To(Succeed())

		rep, err := run(ctx, check.Options{Config: filepath.Join(dir, "nginx.conf")})
		rec.InfraError = suites.InfraText(err)
		Expect(err).NotTo(HaveOccurred())
		rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
		Expect(rep.Rejected).NotTo(BeNil(), "nginx rejects it")
		rec.Observed = &harness.Observation{ConfigTest: &harness.ConfigTest{Exit: rep.Rejected.Exit, Output: rep.Rejected.Output}}
		fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
		Expect(rep.Rejected.Output).To(ContainSubstring(want))
		Expect(rep.Rejected.Output).To(ContainSubstring("in /etc/nginx/sites-enabled/admin.conf:8"))
		Expect(rep.Rejected.At).To(Equal("sites-enabled/admin.conf:8"))
		Expect(rep.Locations).To(BeEmpty(), "no request is sent")
		Expect(rep.ExitCode()).To(Equal(check.ExitFail))
		Expect(leftovers(ctx, rep.Session)).To(BeEmpty(), "containers and networks of session %s", rep.Session)
	})

})

// checkFirst checks a sample with its expectations, saves the report as
// JSON for the specs that take it as baseline, and records a failure as
// the suite's setup error.
func checkFirst(ctx context.Context, opts check.Options) (*check.Report, string) {
	first, err := run(ctx, opts)
	if err != nil {
		suites.SetupFailed(err)
	}
	Expect(err).NotTo(HaveOccurred(), "check the sample %s", opts.Config)
	file := filepath.Join(GinkgoT().TempDir(), "first.json")
	f, err := os.Create(file)
	Expect(err).NotTo(HaveOccurred())
	Expect(first.WriteJSON(f)).To(Succeed())
	Expect(f.Close()).To(Succeed())
	fmt.Fprintf(GinkgoWriter, "%s\n", text(first))
	return first, file
}

// judgeEntry holds the location an expectations entry requests, in the
// sample's first check, to its expectation, filling rec: its id (idFor),
// its name (after prefix), what was observed and any difference; a broken
// location's fix must match fix.
func judgeEntry(rec *report.Record, first *check.Report, e check.Entry, idFor func(check.Location) string, prefix string, fix types.GomegaMatcher) {
	Expect(first).NotTo(BeNil(), "the check of the sample did not run")
	rec.Version, rec.Image, rec.Judged = first.Version, first.Image, true
	l := locationFor(first, e.Source)
	Expect(l).NotTo(BeNil(), "no location in the report for %s", e.Source)
	rec.ID, rec.Name = idFor(*l), fmt.Sprintf("%s: %s (%s) %s", prefix, l.Location, l.At, l.Request)
	rec.Observed, rec.Differences, rec.Evidence.Config = l.Observed, l.Differences, l.Config
	if l.Cause != "" {
		rec.Evidence.Reason = fmt.Sprintf("%s: %s; fix: %s", l.Cause, l.Explanation, l.Fix)
	}
	Expect(l.Outcome).NotTo(Equal(check.NotChecked), "%s: not checked: %s", l.Location, l.NotChecked)
	Expect(l.Differences).To(BeEmpty(), "%s %s: %s %s (%s):\n%s", first.Proxy, first.Version, l.Location, e.Request, l.At, strings.Join(l.Observed.ProxyLog, "\n"))
	if l.Outcome == check.Broken {
		Expect(l.Fix).To(fix, "a broken location gets a fix")
	}
}

// baselineEdit is the baseline scenario of a sample (the folder
// sampleRel, its main file main): it applies the edit of editRel to a copy,
// checks the copy with the expectations of expectRel and the first run
// (first, saved at firstJSON) as baseline, and holds the report to exactly
// the edit's one change, the location it names to cause no-sni and its fix
// to fix.
func baselineEdit(ctx context.Context, rec *report.Record, first *check.Report, firstJSON, sampleRel, main, editRel, expectRel string, fix types.GomegaMatcher) {
	Expect(first).NotTo(BeNil(), "the check of the sample did not run")
	var ed edit
	data, err := os.ReadFile(filepath.Join(root, editRel))
	Expect(err).NotTo(HaveOccurred())
	Expect(yaml.Unmarshal(data, &ed)).To(Succeed())
	dir := copyFolder(sampleRel)
	target := filepath.Join(dir, ed.File)
	content, err := os.ReadFile(target)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(content)).To(ContainSubstring(ed.Before + "\n"))
	replacement, change := ed.Insert+"\n"+ed.Before+"\n", ed.Insert
	if ed.With != "" {
		replacement, change = ed.With+"\n", ed.With
	}
	Expect(os.WriteFile(target, []byte(strings.Replace(string(content), ed.Before+"\n", replacement, 1)), 0o644)).To(Succeed())
	rec.Evidence.Config = change

	rep, err := run(ctx, check.Options{Config: filepath.Join(dir, main), Expect: filepath.Join(root, expectRel), Baseline: firstJSON})
	rec.InfraError = suites.InfraText(err)
	Expect(err).NotTo(HaveOccurred())
	rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
	fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
	found := false
	for _, l := range rep.Locations {
		if strings.HasPrefix(ed.Change, l.Location+" ("+l.At+")") {
			found, rec.Observed = true, l.Observed
			Expect(l.Cause).To(Equal(check.CauseNoSNI))
			Expect(l.Fix).To(fix)
		}
	}
	Expect(found).To(BeTrue(), "no location of the report is the one %q names", ed.Change)
	// The one change, followed by the location's new cause and its fix.
	want := ed.Change + "; now " + check.CauseNoSNI + ": "
	if len(rep.Changes) != 1 || !strings.HasPrefix(rep.Changes[0], want) || !strings.Contains(rep.Changes[0], "; fix: ") {
		rec.Differences = []string{fmt.Sprintf("changes %q want one starting %q, with its fix", rep.Changes, want)}
	}
	Expect(rep.Changes).To(HaveExactElements(And(HavePrefix(want), ContainSubstring("; fix: "))))
	Expect(rep.ExitCode()).To(Equal(check.ExitFail), "a change: exit 1")
}

// run runs a check, counting the containers it starts.
func run(ctx context.Context, opts check.Options) (*check.Report, error) {
	opts.Progress = GinkgoWriter
	rep, err := check.Run(ctx, opts)
	if rep != nil {
		suites.Started(rep.Containers)
	}
	return rep, err
}

// unreadable is check's error for a file it cannot read. As root every
// file is readable, so the suite's own binary checks it as nobody.
func unreadable(file string) string {
	if os.Geteuid() != 0 {
		_, err := check.Run(context.Background(), check.Options{Config: file})
		Expect(err).To(HaveOccurred())
		return err.Error()
	}
	// /proc/self/exe: Ginkgo may have removed the binary by now.
	bin := filepath.Join(filepath.Dir(file), "check.test")
	data, err := os.ReadFile("/proc/self/exe")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(bin, data, 0o755)).To(Succeed())
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), childEnv+"="+file)
	cmd.Dir = filepath.Dir(file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "%s", out)
	return string(out)
}

// copyFolder copies the folder rel (relative to the module root) into a
// temporary folder.
func copyFolder(rel string) string {
	dir := GinkgoT().TempDir()
	src := filepath.Join(root, rel)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, r), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, r), data, 0o644)
	})
	Expect(err).NotTo(HaveOccurred())
	return dir
}

// upgrade runs a check again in the project's trixie image with the
// bookworm run (base, saved at baseJSON) as baseline: the upgrade
// regression test of the README. It holds the sample to no behaviour
// change, as observed on both releases, and to its expectations.
func upgrade(ctx SpecContext, id, what string, base *check.Report, baseJSON string, opts check.Options, reproduce string) {
	rec := &report.Record{ID: id, Name: "sniproof check --release trixie --baseline: the upgrade " + what + " changes no behaviour of the sample",
		Suite: "check", Proxy: base.Proxy, Release: "trixie", Expected: fixtures.Expect{},
		Evidence: report.Evidence{Source: opts.Config, Reproduce: reproduce + " --out before.json; " + reproduce + " --release trixie --baseline before.json",
			Reason: "an upgrade is checked like an edit: the baseline diff lists every behaviour it changes; on both releases the sample behaves the same"}}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	Expect(base).NotTo(BeNil(), "the bookworm check did not run")
	opts.Release, opts.Baseline = "trixie", baseJSON
	rep, err := run(ctx, opts)
	rec.InfraError = suites.InfraText(err)
	Expect(err).NotTo(HaveOccurred())
	rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
	fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
	rec.Differences = rep.Changes
	Expect(rep.Version).NotTo(Equal(base.Version), "trixie's %s is another version than bookworm's", base.Proxy)
	Expect(rep.Changes).To(BeEmpty(), "%s %s → %s", base.Proxy, base.Version, rep.Version)
	Expect(rep.Summary.Failed).To(BeZero(), "every expectation holds on %s %s", rep.Proxy, rep.Version)
	want := check.ExitOK
	if rep.Summary.NotChecked > 0 {
		// Exit 0 only when every location was checked.
		want = check.ExitNotChecked
	}
	Expect(rep.ExitCode()).To(Equal(want), "%d of %d locations not checked", rep.Summary.NotChecked, rep.Summary.Locations)
}

// leftovers lists the containers, networks and volumes of a session still
// there.
func leftovers(ctx context.Context, session string) []string {
	cli, err := harness.Connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer cli.Close()
	filter := make(client.Filters).Add("label", harness.LabelSession+"="+session)
	var out []string
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	Expect(err).NotTo(HaveOccurred())
	for _, c := range cs.Items {
		out = append(out, "container "+c.ID[:12])
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	Expect(err).NotTo(HaveOccurred())
	for _, n := range ns.Items {
		out = append(out, "network "+n.Name)
	}
	vs, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: filter})
	Expect(err).NotTo(HaveOccurred())
	for _, v := range vs.Items {
		out = append(out, "volume "+v.Name)
	}
	return out
}

// locationFor is the report's location of an expectations entry.
func locationFor(rep *check.Report, source string) *check.Location {
	for i, l := range rep.Locations {
		if l.ExpectSource == source {
			return &rep.Locations[i]
		}
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9.-]+`)

// slug makes a case id segment path of s: lower case, "/" between
// segments, every other character not allowed in an id a dash.
func slug(s string) string {
	var parts []string
	for _, p := range strings.Split(strings.ToLower(s), "/") {
		p = strings.Trim(nonSlug.ReplaceAllString(p, "-"), "-.")
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "root"
	}
	return strings.Join(parts, "/")
}

// recordID is a location's case id: check/SERVER/PATH (root for /), or
// check/stream/PORT.
func recordID(l check.Location) string {
	if strings.HasPrefix(l.Location, "stream server :") {
		return "check/stream/" + strings.TrimPrefix(l.Location, "stream server :")
	}
	return "check/" + slug(l.Server) + "/" + slug(strings.TrimPrefix(l.Location, "location "))
}

// backendFor is what the backend does for an expected cause.
func backendFor(cause string) string {
	switch cause {
	case "":
		return fixtures.BackendServed
	case check.CauseNoSNI, check.CauseWrongName:
		return fixtures.BackendRefused
	case check.CauseVerify, check.CauseHandshake:
		return fixtures.BackendFailed
	}
	return fixtures.BackendUntouched
}

func text(rep *check.Report) string {
	var b strings.Builder
	_ = rep.WriteText(&b)
	return b.String()
}

func ptr(s string) *string { return &s }
