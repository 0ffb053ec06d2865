package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sniproof/sniproof/loadtest"
)

// defaultLoadTimeout caps a whole `sniproof load` run by default.
const defaultLoadTimeout = 60 * time.Second

// runLoad runs `sniproof load`: the backend's handshakes and the Go
// proxy's requests under load, in process on loopback (see package
// loadtest). It exits 0 when every check holds, 1 when a count is off
// (lost requests, unexpected errors, the heap bound exceeded, the timeout
// or a signal cutting the run short), 3 when it cannot set up (no loopback
// listener, too few file descriptors) and 64 on bad flags.
func runLoad(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("load", stderr)
	handshakes := fs.Int("handshakes", loadtest.DefaultHandshakes,
		fmt.Sprintf("concurrent TLS `connections` to the backend, half without SNI (2 to %d)", loadtest.MaxHandshakes))
	requests := fs.Int("requests", loadtest.DefaultRequests,
		fmt.Sprintf("`requests` through the Go proxy (1 to %d)", loadtest.MaxRequests))
	concurrency := fs.Int("concurrency", loadtest.DefaultConcurrency,
		fmt.Sprintf("concurrent proxy `clients`, one keep-alive connection each (1 to %d)", loadtest.MaxConcurrency))
	timeout := fs.Duration("timeout", defaultLoadTimeout, "cap on the whole run")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	opts := loadtest.Options{Handshakes: *handshakes, Requests: *requests, Concurrency: *concurrency}
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "sniproof load: %v\n", err)
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "sniproof load: timeout: got %s, expected a positive duration such as 60s\n", *timeout)
		return exitUsage
	}

	ctx, cancel := context.WithTimeoutCause(context.Background(), *timeout,
		fmt.Errorf("the timeout of %s passed", *timeout))
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadtest.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof load: %v\n", err)
		return exitInfra
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sniproof load: write report: %v\n", err)
		return 1
	}
	if !rep.OK {
		return 1
	}
	return exitOK
}
