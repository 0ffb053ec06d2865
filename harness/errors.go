// Package harness starts the containers of a conformance run with
// testcontainers-go: the SNI-only backend, the proxies under test, and the
// networks between them. It builds the images it needs without a registry,
// labels everything with the run's session id, and removes it all again.
package harness

import "errors"

// InfraError is a failure of the test infrastructure (no Docker engine, an
// image that cannot be built, a container that does not start), as opposed to
// a case whose proxy behaved differently than expected.
type InfraError struct {
	Op  string
	Err error
}

func (e *InfraError) Error() string { return e.Op + ": " + e.Err.Error() }

func (e *InfraError) Unwrap() error { return e.Err }

// IsInfra reports whether err is, or wraps, an InfraError.
func IsInfra(err error) bool {
	var ie *InfraError
	return errors.As(err, &ie)
}
