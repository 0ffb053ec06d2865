//go:build conformance

package check_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// builtinTable is a proxy's case table as the check suite runs it: every
// case its shared configuration can hold, checked once in one proxy, each
// case then judged as the nginx cases are (see builtin_test.go), on the
// one location check reports for it.
type builtinTable struct {
	// id names the proxy in spec ids (check/builtin/ID/...) and labels,
	// title in the specs' texts, kind in the records.
	id, title, kind string
	// file is the shared configuration's file name.
	file  string
	cases []fixtures.Case
	err   error
	// shared makes the shared configuration, the location check reports
	// for each case in it, and why each case left out is.
	shared func() (conf string, locations, excluded map[string]string, err error)
	// refused is the status the proxy answers when the upstream refuses
	// its handshake (0: it closes the client's connection).
	refused int
	// unit is what the proxy calls a location: "backend", "Service".
	unit string
}

// describeBuiltin adds the specs of t: its cases loaded, each case, and
// every location check reports belonging to a case. Like Describe, it
// returns true, for var _ =.
func describeBuiltin(t builtinTable) bool {
	reproduce := "make conformance LABELS=check FOCUS=check/builtin/" + t.id + "/"
	It("loads the built-in "+t.title+" cases", Label("check", t.id), func() {
		Expect(t.err).NotTo(HaveOccurred())
		Expect(t.cases).NotTo(BeEmpty())
	})
	Describe("sniproof check and lint on the built-in "+t.title+" cases", Label("check", t.id), Ordered, ContinueOnFailure, func() {
		var rep *check.Report
		var locations, excluded map[string]string

		BeforeAll(func(ctx SpecContext) {
			Expect(t.err).NotTo(HaveOccurred())
			var conf string
			var err error
			conf, locations, excluded, err = t.shared()
			Expect(err).NotTo(HaveOccurred())
			rep = checkShared(ctx, t.file, []byte(conf))
		}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

		for _, c := range t.cases {
			It(fmt.Sprintf("check/builtin/%s/%s: lint predicts what check observes", t.id, c.ID), func() {
				rec := builtinRecord(c, "check/builtin/"+t.id+"/"+c.ID, t.kind, reproduce+c.ID, excluded[c.ID], rep)
				l := namedLocation(rep, locations[c.ID])
				Expect(l).NotTo(BeNil(), "check reports no %s for %s", locations[c.ID], c.ID)
				judgeCase(rec, rep, c, []check.Location{*l}, disagreement{}, t.refused)
			})
		}

		It(fmt.Sprintf("check/builtin/%s/coverage: every %s check reports belongs to a case", t.id, t.unit), func() {
			Expect(rep).NotTo(BeNil(), "the check of the built-in %s cases did not run", t.title)
			Expect(rep.Locations).To(HaveLen(len(locations)))
			for _, l := range rep.Locations {
				Expect(l.Outcome).NotTo(Equal(check.NotChecked), "%s: %s", l.Location, l.NotChecked)
			}
			fmt.Fprintf(GinkgoWriter, "check/builtin/%s: %d of %d built-in %s cases checked in one %s, %d excluded from it\n",
				t.id, len(locations), len(t.cases), t.title, t.kind, len(excluded))
		})
	})
	return true
}
