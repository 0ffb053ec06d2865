//go:build conformance

package clients_test

import (
	"encoding/json"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/fixtures/clients"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

var _ = Describe("client", func() {
	if table == nil {
		return
	}
	for _, cl := range table.Clients {
		Describe(cl.Name, func() {
			for _, c := range table.Cases {
				if c.Client != cl.Name {
					continue
				}
				t := table.Target(c.Target)
				It(c.ID+": "+table.CaseName(c), Label(suites.ClientLabels(c)...), func(ctx SpecContext) {
					rec := &report.Record{
						ID: c.ID, Name: table.CaseName(c), Suite: "clients", Proxy: cl.Name, Version: versions[cl.Tool],
						Release: release, Image: clientImg,
						Expected: fixtures.Expect{Status: c.Status, SNI: c.SNI, Note: note(c)},
						Evidence: report.Evidence{
							Reason:    c.Reason,
							Source:    fmt.Sprintf("%s:%d", c.File, c.Line),
							Reproduce: fmt.Sprintf("make conformance FOCUS='%s' LABELS='clients && %s'", c.ID, cl.Name),
						},
					}
					AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
					Expect(client).NotTo(BeNil(), "the client container did not start")

					var srv *harness.Front
					ip := stack.BackendIP
					if t.Server == clients.ServerFront {
						Expect(front).NotTo(BeNil(), "the nginx frontend did not start")
						srv, ip = front, front.IP
					}
					dial := clients.NewDial(t, ip, harness.ClientCAPath)
					cmd, err := cl.CommandLine(t, dial)
					Expect(err).NotTo(HaveOccurred())
					rec.Evidence.Config = shellLine(cmd)

					obs, err := stack.Observe(ctx, client, srv, cl.Output, cmd)
					rec.Observed = observation(dial, obs)
					Expect(err).NotTo(HaveOccurred())

					want := harness.ClientExpect{Exit: *c.Exit, Status: c.Status, SNI: *c.SNI, Cert: c.Cert, Error: c.Error, Output: c.Output}
					if c.Cert == clients.CertNone {
						want.Cert = ""
					}
					rec.Differences, rec.Judged = harness.JudgeClient(want, obs), true
					Expect(rec.Differences).To(BeEmpty(), "%s %s: %s:\n%s%s", cl.Name, versions[cl.Tool], shellLine(cmd), obs.Stdout, obs.Stderr)
				})
			}
		})
	}
})

// note is the part of the expectation that fixtures.Expect has no field for.
func note(c clients.Case) string {
	n := fmt.Sprintf("exit %d · certificate %s", *c.Exit, c.Cert)
	if len(c.Error) > 0 {
		n += fmt.Sprintf(" · error text has %q", c.Error)
	}
	if len(c.Output) > 0 {
		n += fmt.Sprintf(" · output has %q", c.Output)
	}
	return n
}

// observation is the client observation as a record holds it: the client's
// outcome is the one response, whose body is the whole client observation
// as JSON (exit status, certificate, output).
func observation(d clients.Dial, obs harness.ClientObservation) *harness.Observation {
	body, _ := json.Marshal(struct {
		harness.ClientObservation
		Events []backend.Event `json:"events,omitempty"`
	}{ClientObservation: obs})
	o := &harness.Observation{
		Responses: []harness.Response{{Host: fmt.Sprintf("%s:%d", d.Host, d.Port), Status: obs.Status, Error: obs.Error, Body: string(body)}},
		Status:    obs.Status,
		Backend:   obs.Backend,
		Reason:    obs.Reason,
		SNI:       obs.SNI,
		Events:    obs.Events,
		ProxyLog:  obs.ServerLog,
		Duration:  obs.Duration,
	}
	if obs.Exit != 0 {
		o.Error = fmt.Sprintf("exit %d: %s", obs.Exit, obs.Error)
	}
	for _, ev := range obs.Events {
		if ev.Kind == backend.KindHandshake {
			o.Connections++
		}
	}
	return o
}

// shellLine is a command as one could paste it into a shell.
func shellLine(cmd []string) string {
	var parts []string
	for _, a := range cmd {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`%{}*?[]|&;<>()#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
