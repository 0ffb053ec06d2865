//go:build conformance

// Package clients_test is the client compatibility suite: real clients from
// Debian bookworm (curl, wget, openssl s_client, gnutls-cli, Python, Java,
// Node.js) and Go's crypto/tls (sniproof tlsclient), all in one container on
// the suite's internal network, each aimed at the SNI-only backend and at
// nginx routing by SNI. Every cell of fixtures/clients/cases.yaml is one
// spec, judged on the client's exit status and HTTP status, the SNI the
// server saw, the certificate the client printed and its error text.
package clients_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/fixtures/clients"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/suites"
)

// release is the Debian release of the client image and the frontend.
const release = suites.ClientRelease

// scriptDir is where the client scripts go in the client container.
const scriptDir = "/opt/sniproof"

var (
	stack     *harness.Stack
	client    *harness.ClientContainer
	clientImg string
	front     *harness.Front
	versions  = map[string]string{} // by tool
	overhead  time.Duration         // median exec of `true`
	setupErr  error
)

// table holds only the cases of this run's shard; what does not load
// becomes one failing spec naming the file and line.
var table, loadErr = load()

func load() (*clients.Table, error) {
	shard, err := suites.ParseShard(os.Getenv("SNIPROOF_SHARD"))
	if err != nil {
		return nil, err
	}
	return suites.ClientTable(shard)
}

func TestClients(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "clients")
}

var _ = It("loads the client table", Label("clients"), func() {
	Expect(loadErr).NotTo(HaveOccurred())
})

var _ = BeforeSuite(func(ctx SpecContext) {
	if loadErr != nil {
		return // no case specs; the table's own spec fails
	}
	var err error
	stack, err = harness.StartStack(ctx, os.Stderr)
	DeferCleanup(func(ctx SpecContext) {
		Expect(run.Close(ctx, stack)).To(Succeed(), "remove the run's containers and networks")
	})
	setupErr = err
	Expect(err).NotTo(HaveOccurred(), "start the backend")

	names, needFront, err := suites.WantedClients(GinkgoLabelFilter(), table)
	setupErr = err
	Expect(err).NotTo(HaveOccurred())
	if needFront {
		conf, err := clients.RenderFront(release, harness.FrontCertDir)
		setupErr = err
		Expect(err).NotTo(HaveOccurred())
		certNames := append(append([]string(nil), clients.Front.Names...), clients.Front.Default)
		front, err = stack.StartFront(ctx, release, conf, certNames, []string{clients.Front.Unknown})
		setupErr = err
		Expect(err).NotTo(HaveOccurred(), "start the nginx frontend")
		fmt.Fprintf(os.Stderr, "sniproof: nginx %s (%s) routes by SNI at %s on the internal network\n", front.Version, release, front.IP)
	}

	scripts, err := clients.Scripts()
	setupErr = err
	Expect(err).NotTo(HaveOccurred())
	var files []harness.ClientFile
	for _, s := range scripts {
		files = append(files, harness.ClientFile{Path: scriptDir + "/" + s.Name, Data: s.Data, Mode: 0o644})
	}
	client, clientImg, err = stack.StartClient(ctx, release, files...)
	setupErr = err
	Expect(err).NotTo(HaveOccurred(), "start the client container")

	setupErr = prepare(ctx, names)
	Expect(setupErr).NotTo(HaveOccurred())
	fmt.Fprintf(os.Stderr, "sniproof: client container %s at %s; one exec costs %s (median of %d runs of true)\n",
		clientImg, client.IP, overhead.Round(time.Millisecond), overheadRuns)
}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*8))

const overheadRuns = 9

// prepare runs the wanted clients' setup commands, learns their tools'
// versions, and measures what one exec costs.
func prepare(ctx context.Context, names map[string]bool) error {
	for _, cl := range table.Clients {
		if !names[cl.Name] {
			continue
		}
		if len(cl.Setup) > 0 {
			run, err := client.Run(ctx, cl.Setup)
			if err != nil {
				return err
			}
			if run.Exit != 0 {
				return fmt.Errorf("fixtures/clients/clients.yaml:%d: setup of %s: exit %d: %s%s", cl.Line, cl.Name, run.Exit, run.Stdout, run.Stderr)
			}
		}
		if _, ok := versions[cl.Tool]; ok {
			continue
		}
		v, err := client.ClientVersion(ctx, cl.Version, regexp.MustCompile(cl.VersionRE))
		if err != nil {
			return fmt.Errorf("fixtures/clients/clients.yaml:%d: version of %s: %w", cl.Line, cl.Name, err)
		}
		versions[cl.Tool] = v
	}
	var runs []time.Duration
	for range overheadRuns {
		run, err := client.Run(ctx, []string{"true"})
		if err != nil {
			return err
		}
		runs = append(runs, run.Duration)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i] < runs[j] })
	overhead = runs[len(runs)/2]
	return nil
}

var run = suites.NewRun()

var _ = ReportBeforeSuite(run.Start)

var _ = ReportAfterEach(run.SpecDone)

var _ = ReportAfterSuite("records", func(r Report) {
	Expect(suites.Write("clients", r, setupErr, loadErr, stack.ContainerStarts())).To(Succeed())
	if overhead > 0 {
		fmt.Fprintf(os.Stderr, "sniproof: one exec in the client container costs about %s\n", overhead.Round(time.Millisecond))
	}
})
