// Package loadtest puts sniproof's SNI-only backend and its bundled Go
// proxy under a bounded load, in process, on loopback, and checks that
// nothing is lost. It is what `sniproof load` runs.
//
// A run has two phases, each with its own backend:
//
//   - Handshakes: N TCP connections are opened to one backend listener
//     (refusal alert80, serving www.xx.test), then all N TLS handshakes are
//     released at once. Half send SNI www.xx.test and must complete and get
//     a 200 answer whose JSON shows that SNI; the others send no SNI and must
//     be refused with alert 80 (internal_error). Every connection stays open
//     until all are judged, so the backend holds N connections at once.
//   - Proxy: the Go proxy routes every host to https://www.xx.test:PORT
//     (dialled on 127.0.0.1, SNI auto, verified against the run's CA), and C
//     HTTP/1.1 keep-alive clients, one connection each, send M requests
//     through it. Every answer must be 200 with the backend's JSON showing
//     SNI www.xx.test, and the Go heap in use must stay under a bound.
//
// The backend keeps every event in memory without limit (see
// backend.Server.Events); a run reports how many it kept. Its JSON event
// lines are discarded.
package loadtest

import (
	"context"
	"fmt"
)

// Defaults of the sniproof load command.
const (
	DefaultHandshakes  = 1000
	DefaultRequests    = 20000
	DefaultConcurrency = 200
)

// Caps on Options, which keep a run bounded in time, ports, file
// descriptors and memory. MaxRequests keeps the largest run well under
// DefaultHeapBound.
const (
	MaxHandshakes  = 20000
	MaxRequests    = 100000
	MaxConcurrency = 2000
)

// DefaultHeapBound bounds the Go heap in use (runtime.MemStats.HeapInuse)
// during the proxy phase: 256 MiB. The proxy and the clients need a few
// tens of MiB whatever the count; the backend's event log, which keeps
// every event, adds about 1 KiB of heap in use per request (36 MiB peak at
// 20,000 requests, 112 MiB at 100,000, with 200 clients).
const DefaultHeapBound = 256 << 20

// Options size a run.
type Options struct {
	// Handshakes is the number of concurrent TLS connections to the
	// backend, 2 to MaxHandshakes; half of them (rounded up) send SNI.
	Handshakes int
	// Requests is the number of requests sent through the proxy, 1 to
	// MaxRequests.
	Requests int
	// Concurrency is the number of concurrent proxy clients, 1 to
	// MaxConcurrency; no more clients run than there are requests.
	Concurrency int
	// HeapBound bounds the peak heap in use during the proxy phase, in
	// bytes; 0 means DefaultHeapBound.
	HeapBound uint64
}

// Validate checks that every count is within its range.
func (o Options) Validate() error {
	for _, f := range []struct {
		name     string
		value    int
		min, max int
	}{
		{"handshakes", o.Handshakes, 2, MaxHandshakes},
		{"requests", o.Requests, 1, MaxRequests},
		{"concurrency", o.Concurrency, 1, MaxConcurrency},
	} {
		if f.value < f.min || f.value > f.max {
			return fmt.Errorf("%s: got %d, expected %d to %d", f.name, f.value, f.min, f.max)
		}
	}
	return nil
}

// Report is the outcome of a run. Its JSON form is what
// `sniproof load --json` prints.
type Report struct {
	// OK is true when every check holds; Failures then is empty.
	OK       bool     `json:"ok"`
	Failures []string `json:"failures"`
	// ListenBacklog is the kernel's cap on a listen backlog
	// (net.core.somaxconn), which is the backlog net.Listen asks for; 0
	// when unknown.
	ListenBacklog int             `json:"listen_backlog"`
	Handshakes    HandshakeResult `json:"handshakes"`
	Proxy         ProxyResult     `json:"proxy"`
}

// Run runs both phases and judges them. It returns an error, and no
// report, when it cannot set up: a loopback listener cannot be bound, the
// open-file limit is too low for the counts asked for, certificates cannot
// be made. When ctx ends first, the operations still running fail, and
// the report says the run stopped early.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := checkOpenFiles(o); err != nil {
		return nil, err
	}
	bound := o.HeapBound
	if bound == 0 {
		bound = DefaultHeapBound
	}
	p, err := newPKI()
	if err != nil {
		return nil, err
	}
	r := &Report{ListenBacklog: somaxconn()}
	if r.Handshakes, err = runHandshakes(ctx, p, o.Handshakes); err != nil {
		return nil, fmt.Errorf("handshake phase: %w", err)
	}
	if r.Proxy, err = runProxy(ctx, p, o.Requests, min(o.Concurrency, o.Requests), bound); err != nil {
		return nil, fmt.Errorf("proxy phase: %w", err)
	}
	r.Failures = append(append([]string{}, r.Handshakes.failures()...), r.Proxy.failures()...)
	if ctx.Err() != nil {
		r.Failures = append(r.Failures, fmt.Sprintf("stopped early: %v", context.Cause(ctx)))
	}
	r.OK = len(r.Failures) == 0
	return r, nil
}

// fdsPerHandshake and fdsPerClient are the file descriptors one
// connection of each phase takes at most: both ends of the client's
// connection, and for the proxy both ends of one upstream connection too.
const (
	fdsPerHandshake = 2
	fdsPerClient    = 4
	fdsSpare        = 64 // listeners, the control API, stdio, epoll, ...
)

// checkOpenFiles fails when the open-file limit is known and too low for
// o: every connection of a phase is open at once.
func checkOpenFiles(o Options) error {
	limit, ok := openFilesLimit()
	if !ok {
		return nil
	}
	need := max(o.Handshakes*fdsPerHandshake, min(o.Concurrency, o.Requests)*fdsPerClient) + fdsSpare
	if need > limit {
		return fmt.Errorf("open files: the counts asked for need about %d file descriptors, the limit is %d (ulimit -n)", need, limit)
	}
	return nil
}
