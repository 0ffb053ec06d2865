//go:build conformance

// Package check_test is the suite of sniproof check: it checks the sample
// operator configuration of fixtures/check end to end in real nginx, with
// its expected per-location verdicts; checks that lint and check agree on
// it; runs the baseline scenario (an edit that breaks one location); and
// feeds check a configuration nginx rejects and a file it cannot read.
// Every check runs in a session of its own, removed when it ends.
package check_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/suites"
)

// childEnv makes the suite's binary check the file it names and print the
// error, for the spec that runs it as an unprivileged user.
const childEnv = "SNIPROOF_CHECK_CHILD"

func TestCheck(t *testing.T) {
	if file := os.Getenv(childEnv); file != "" {
		_, err := check.Run(context.Background(), check.Options{Config: file})
		fmt.Print(err)
		os.Exit(0)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "check")
}

var suiteRun = suites.NewRun()

var _ = ReportBeforeSuite(suiteRun.Start)

var _ = ReportAfterEach(suiteRun.SpecDone)

var _ = ReportAfterSuite("records", func(r Report) {
	Expect(suites.Write("check", r, nil, nil, 0)).To(Succeed())
})
