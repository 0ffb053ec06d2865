package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints the build: the module's VCS revision when known, and
// the Go version, which decides the bundled proxy's TLS behaviour.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", stderr)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	rev := "unknown revision"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	fmt.Fprintf(stdout, "sniproof %s %s\n", rev, runtime.Version())
	return exitOK
}
