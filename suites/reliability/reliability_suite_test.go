//go:build conformance

// Package reliability_test checks that a run leaves nothing behind however
// it ends — passed, failed, panicked, timed out, interrupted during an image
// build or a run, or with a container killed from outside — and that faults
// give clear verdicts within a bounded time. Each spec runs the real
// `sniproof conformance` on a few nginx cases and inspects the Docker engine.
package reliability_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestReliability(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "reliability")
}
