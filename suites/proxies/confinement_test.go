//go:build conformance

package proxies_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The run's own security posture rides along with every run: the backend
// has no egress, nothing is privileged, and published ports are loopback only.
var _ = It("keeps every container of the run confined", Label("security"), func(ctx SpecContext) {
	violations, err := stack.Session.Violations(ctx, stack.Backend.GetContainerID())
	Expect(err).NotTo(HaveOccurred())
	Expect(violations).To(BeEmpty())
})
