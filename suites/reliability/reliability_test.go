//go:build conformance

package reliability_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/moby/moby/client"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// Bounds of the reliability specs, in one place.
const (
	// runBound is how long one inner run may take, cleanup included.
	runBound = 4 * time.Minute
	// appearBound is how long the inner run may take to start its containers.
	appearBound = 2 * time.Minute
	// stopBound is how long a run may take to end after a signal or fault.
	stopBound = 60 * time.Second
)

// seedCases selects the two seed cases of nginx from bookworm: a fast run.
const seedCases = "nginx && bookworm && seed"

var (
	sniproof string
	docker   *client.Client
)

var _ = ReportAfterSuite("records", func(r Report) {
	dir, err := suites.ReportDir()
	Expect(err).NotTo(HaveOccurred())
	Expect(report.WriteSuite(dir, suites.Suite("reliability", r, nil))).To(Succeed())
})

var _ = BeforeSuite(func(ctx SpecContext) {
	root, err := harness.ModuleRoot()
	Expect(err).NotTo(HaveOccurred())
	sniproof = filepath.Join(GinkgoT().TempDir(), "sniproof")
	build := exec.CommandContext(ctx, "go", "build", "-o", sniproof, "./cmd/sniproof")
	build.Dir = root
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build: %s", out)
	docker, err = harness.Connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(docker.Close)
}, NodeTimeout(5*time.Minute))

// inner is one run of `sniproof conformance` under test.
type inner struct {
	session, reports string
	started          time.Time
	cmd              *exec.Cmd
	out              syncBuffer
	done             chan error
}

// syncBuffer is a bytes.Buffer safe for the inner run's writers and the
// spec's readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start begins an inner run with its own session and reports folder.
func start(args []string, env ...string) *inner {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	in := &inner{session: "rel-" + hex.EncodeToString(b), reports: GinkgoT().TempDir(), started: time.Now(), done: make(chan error, 1)}
	in.cmd = exec.Command(sniproof, append([]string{"conformance", "-q", "--reports", in.reports}, args...)...)
	root, err := harness.ModuleRoot()
	Expect(err).NotTo(HaveOccurred())
	in.cmd.Dir = root
	in.cmd.Env = append(append(os.Environ(), "SNIPROOF_SESSION="+in.session), env...)
	in.cmd.Stdout, in.cmd.Stderr = &in.out, &in.out
	Expect(in.cmd.Start()).To(Succeed())
	go func() { in.done <- in.cmd.Wait() }()
	DeferCleanup(func(ctx context.Context) {
		// Whatever the spec's outcome, the inner run is over and swept.
		_ = in.cmd.Process.Kill()
		_, _ = harness.Sweep(ctx, docker, in.session)
	})
	return in
}

// wait returns the inner run's exit code, failing the spec when it takes
// longer than bound.
func (in *inner) wait(bound time.Duration) int {
	select {
	case err := <-in.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		Expect(err).NotTo(HaveOccurred(), "inner run:\n%s", in.out.String())
		return 0
	case <-time.After(bound):
		Fail("the inner run did not end within " + bound.String() + ":\n" + in.out.String())
	}
	return -1
}

// containers lists the inner run's containers, optionally only those of an
// image whose reference contains imageSubstr.
func (in *inner) containers(ctx context.Context, imageSubstr string) []string {
	list, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", harness.LabelSession+"="+in.session)})
	Expect(err).NotTo(HaveOccurred())
	var ids []string
	for _, c := range list.Items {
		if imageSubstr == "" || bytes.Contains([]byte(c.Image), []byte(imageSubstr)) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// leftovers are the inner run's containers, networks and partial image
// tags still there.
func (in *inner) leftovers(ctx context.Context) []string {
	var out []string
	for _, id := range in.containers(ctx, "") {
		out = append(out, "container "+id[:12])
	}
	nets, err := docker.NetworkList(ctx, client.NetworkListOptions{
		Filters: make(client.Filters).Add("label", harness.LabelSession+"="+in.session)})
	Expect(err).NotTo(HaveOccurred())
	for _, n := range nets.Items {
		out = append(out, "network "+n.Name)
	}
	return append(out, in.partialImages(ctx)...)
}

// partialImages are the partial tags of unfinished builds that the inner
// run may have left: those of sniproof images created since it started, and
// those of images its builds labelled (harness.LabelBuild), of which an
// untagged one is a leftover too.
func (in *inner) partialImages(ctx context.Context) []string {
	var out []string
	add := func(s string) {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	recent, err := docker.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", "sniproof/*")})
	Expect(err).NotTo(HaveOccurred())
	for _, img := range recent.Items {
		for _, ref := range img.RepoTags {
			if img.Created >= in.started.Unix() && harness.IsPartialTag(ref) {
				add("image " + ref)
			}
		}
	}
	built, err := docker.ImageList(ctx, client.ImageListOptions{
		Filters: make(client.Filters).Add("label", harness.LabelBuild+"="+in.session)})
	Expect(err).NotTo(HaveOccurred())
	for _, img := range built.Items {
		tagged := false
		for _, ref := range img.RepoTags {
			if ref == "<none>:<none>" {
				continue
			}
			tagged = true
			if harness.IsPartialTag(ref) {
				add("image " + ref)
			}
		}
		if !tagged {
			add("untagged image " + strings.TrimPrefix(img.ID, "sha256:")[:12])
		}
	}
	return out
}

// waitForContainers waits until the inner run has started n containers
// whose image contains imageSubstr, and returns their ids.
func (in *inner) waitForContainers(ctx context.Context, imageSubstr string, n int) []string {
	var ids []string
	Eventually(func() int {
		ids = in.containers(ctx, imageSubstr)
		return len(ids)
	}).WithTimeout(appearBound).WithPolling(200*time.Millisecond).
		Should(BeNumerically(">=", n), "the inner run did not start %d %q container(s):\n%s", n, imageSubstr, &in.out)
	return ids
}

func (in *inner) document() report.Document {
	doc, err := report.Load(filepath.Join(in.reports, "results.json"))
	Expect(err).NotTo(HaveOccurred(), "inner run:\n%s", in.out.String())
	return doc
}

var _ = Describe("a run", Label("reliability"), func() {
	It("that passes leaves nothing behind", func(ctx SpecContext) {
		record("pass", "a run that passes leaves nothing behind")
		in := start([]string{"--labels", seedCases})
		Expect(in.wait(runBound)).To(Equal(report.ExitPass), in.out.String())
		Expect(in.leftovers(ctx)).To(BeEmpty())
	})

	It("with a failing case writes all four reports, exits 1 and leaves nothing behind", func(ctx SpecContext) {
		record("failing-case", "a run with a failing case writes all four reports, exits 1 and leaves nothing behind")
		dir := GinkgoT().TempDir()
		Expect(os.MkdirAll(filepath.Join(dir, "nginx"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "nginx", "cases.yaml"), []byte(failingTable), 0o644)).To(Succeed())
		in := start([]string{"--labels", "nginx && bookworm"}, "SNIPROOF_FIXTURES="+dir)
		Expect(in.wait(runBound)).To(Equal(report.ExitFail), in.out.String())
		for _, f := range []string{"results.json", "junit.xml", "matrix.md", "index.html"} {
			Expect(filepath.Join(in.reports, f)).To(BeAnExistingFile())
		}
		doc := in.document()
		Expect(doc.Summary.Failed).To(Equal(1))
		Expect(doc.Summary.Passed).To(Equal(1))
		Expect(in.leftovers(ctx)).To(BeEmpty())
		// The page shows the failure in red with its evidence, in a real browser.
		check := exec.CommandContext(ctx, sniproof, "report", "check", in.reports)
		out, err := check.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "sniproof report check: %s", out)
		Expect(string(out)).To(ContainSubstring("1 failed in red with their evidence"))
	})

	It("split into two shards and merged gives the verdicts of one run", func(ctx SpecContext) {
		record("shards-merged", "a run split into two shards and merged gives the verdicts of one run")
		whole := start([]string{"--labels", "nginx && bookworm"})
		Expect(whole.wait(runBound)).To(Equal(report.ExitPass), whole.out.String())
		var shards []string
		for _, sh := range []string{"1/2", "2/2"} {
			in := start([]string{"--labels", "nginx && bookworm", "--shard", sh})
			Expect(in.wait(runBound)).To(Equal(report.ExitPass), in.out.String())
			shards = append(shards, filepath.Join(in.reports, "results.json"))
		}
		out := GinkgoT().TempDir()
		merge := exec.CommandContext(ctx, sniproof, append([]string{"report", "merge", "--out", out}, shards...)...)
		msg, err := merge.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "sniproof report merge: %s", msg)
		merged, err := report.Load(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		verdicts := func(d report.Document) map[string]string {
			m := map[string]string{}
			for _, r := range d.Records {
				m[r.Key()] = r.Verdict
			}
			return m
		}
		Expect(verdicts(merged)).To(Equal(verdicts(whole.document())))
		Expect(merged.Shards).To(Equal([]string{"1/2", "2/2"}))
		for _, f := range []string{"junit.xml", "matrix.md", "index.html"} {
			Expect(filepath.Join(out, f)).To(BeAnExistingFile())
		}
	})

	It("with a panicking spec reports it as failed and leaves nothing behind", func(ctx SpecContext) {
		record("panicking-spec", "a run with a panicking spec reports it as failed and leaves nothing behind")
		in := start([]string{"--labels", seedCases}, "SNIPROOF_FAULT=panic:nginx/seed/server-name-on")
		Expect(in.wait(runBound)).To(Equal(report.ExitFail), in.out.String())
		Expect(in.document().Summary.Failed).To(Equal(1))
		Expect(in.leftovers(ctx)).To(BeEmpty())
	})

	It("that hits the suite timeout stops and leaves nothing behind", func(ctx SpecContext) {
		record("suite-timeout", "a run that hits the suite timeout stops and leaves nothing behind")
		in := start([]string{"--labels", "nginx && bookworm", "--suite-timeout", "4s"})
		Expect(in.wait(runBound)).NotTo(Equal(report.ExitPass), in.out.String())
		Expect(in.leftovers(ctx)).To(BeEmpty())
	})

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		id := map[syscall.Signal]string{syscall.SIGINT: "sigint", syscall.SIGTERM: "sigterm"}[sig]
		It("interrupted by "+sig.String()+" while its proxies run leaves nothing behind", func(ctx SpecContext) {
			record("interrupted-"+id, "a run interrupted by "+sig.String()+" while its proxies run leaves nothing behind")
			in := start([]string{"--labels", "nginx && bookworm"})
			in.waitForContainers(ctx, "sniproof/nginx", 1)
			Expect(in.cmd.Process.Signal(sig)).To(Succeed())
			Expect(in.wait(stopBound)).NotTo(Equal(report.ExitPass), in.out.String())
			Expect(in.leftovers(ctx)).To(BeEmpty())
		})
	}

	It("interrupted while it builds an image stops within a bound and leaves nothing behind", func(ctx SpecContext) {
		record("interrupted-build", "a run interrupted while it builds an image stops within a bound and leaves nothing behind")
		salt := "interrupted-" + time.Now().Format("150405.000")
		recipe, err := harness.LoadRecipe("nginx", "bookworm")
		Expect(err).NotTo(HaveOccurred())
		os.Setenv("SNIPROOF_IMAGE_SALT", salt)
		salted := recipe.Tag()
		os.Unsetenv("SNIPROOF_IMAGE_SALT")
		before := harness.BuildFolders()
		in := start([]string{"--labels", seedCases}, "SNIPROOF_IMAGE_SALT="+salt)
		Eventually(in.out.String).WithTimeout(appearBound).WithPolling(100 * time.Millisecond).
			Should(ContainSubstring("building from docker/nginx/bookworm.packages"))
		Expect(in.cmd.Process.Signal(syscall.SIGINT)).To(Succeed())
		Expect(in.wait(stopBound)).NotTo(Equal(report.ExitPass), in.out.String())
		Expect(in.leftovers(ctx)).To(BeEmpty())
		Eventually(func() []string {
			var added []string
			for _, a := range harness.BuildFolders() {
				if !contains(before, a) {
					added = append(added, a)
				}
			}
			return added
		}).WithTimeout(30*time.Second).Should(BeEmpty(), "mmdebstrap's temporary roots and the run's essential roots")
		_, err = docker.ImageInspect(ctx, salted)
		Expect(err).To(HaveOccurred(), "the interrupted build left the image %s", salted)
	})

	for _, victim := range []struct{ name, image string }{{"a proxy", "sniproof/nginx"}, {"the backend", "sniproof/sniproof"}} {
		It("with "+victim.name+" killed from outside gives an infrastructure error in bounded time and leaves nothing behind", func(ctx SpecContext) {
			record("killed-"+strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(victim.name, "a "), "the "), " ", "-"),
				"a run with "+victim.name+" killed from outside gives an infrastructure error in bounded time and leaves nothing behind")
			in := start([]string{"--labels", "nginx && bookworm"})
			// Kill it once the cases have begun.
			Eventually(in.out.String).WithTimeout(appearBound).WithPolling(100 * time.Millisecond).
				Should(ContainSubstring("cases at http://127.0.0.1:"))
			ids := in.waitForContainers(ctx, victim.image, 1)
			_, err := docker.ContainerKill(ctx, ids[0], client.ContainerKillOptions{Signal: "KILL"})
			Expect(err).NotTo(HaveOccurred())
			Expect(in.wait(runBound)).To(Equal(report.ExitInfra), in.out.String())
			Expect(in.document().InfraErrors).NotTo(BeEmpty())
			Expect(in.leftovers(ctx)).To(BeEmpty())
		})
	}
})

// record makes the spec a record of the run's reports, under id.
func record(id, name string) {
	AddReportEntry(suites.RecordEntry, &report.Record{
		ID: "reliability/" + id, Name: name, Suite: "reliability", Proxy: "sniproof", Version: "run", Release: "local",
		Evidence: report.Evidence{
			Reason:    "DESIGN.md, issues 8 and 18: no container, network or partial image tag of a run remains, however it ends",
			Source:    "suites/reliability/reliability_test.go",
			Reproduce: "make conformance LABELS=reliability FOCUS='" + name + "'",
		},
	}, ReportEntryVisibilityNever)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// failingTable is an nginx table with one passing and one failing case.
const failingTable = `
- id: nginx/seed/no-server-name
  name: nginx without proxy_ssl_server_name answers 502 when the upstream requires SNI
  reason: the field report
  personality: alert80
  location: |
    proxy_pass https://{{.Upstream}};
  expect: {status: 502, backend: refused, reason: missing-sni, sni: ""}

- id: nginx/reliability/fails-on-purpose
  name: a case whose expectation is wrong on purpose
  reason: the reliability suite needs one failing case
  personality: alert80
  location: |
    proxy_pass https://{{.Upstream}};
    proxy_ssl_server_name on;
  expect: {status: 200, backend: served, sni: wrong.xx.test}
`
