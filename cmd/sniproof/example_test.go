package main

import (
	"fmt"
	"os"
)

// Usage errors say what is missing and exit with 64, before anything runs.
func Example_dispatch() {
	fmt.Println("exit", dispatch([]string{"sweep"}, os.Stdout, os.Stdout))
	fmt.Println("exit", dispatch([]string{"certs", "--out", "x", "--name", "x.test", "--intermediates", "9"}, os.Stdout, os.Stdout))
	fmt.Println("exit", dispatch([]string{"backend"}, os.Stdout, os.Stdout))
	// Output:
	// sniproof sweep: give exactly one of --session ID or --all
	// exit 64
	// sniproof certs: --intermediates must be 0-5, got 9
	// exit 64
	// sniproof backend: --config FILE is required
	// exit 64
}
