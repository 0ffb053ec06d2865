package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sniproof/sniproof/backend"
)

func runBackend(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("backend", stderr)
	config := fs.String("config", "", "JSON `file` with the listeners (required)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *config == "" {
		fmt.Fprintln(stderr, "sniproof backend: --config FILE is required")
		return exitUsage
	}
	cfg, err := backend.LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof backend: %v\n", err)
		return exitUsage
	}
	srv, err := backend.New(cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof backend: %v\n", err)
		return exitUsage
	}
	if err := srv.Start(); err != nil {
		fmt.Fprintf(stderr, "sniproof backend: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "sniproof backend: ready, %d listeners\n", len(cfg.Listeners))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, backend.SignalWarm, backend.SignalCold)
	for s := <-sig; s == backend.SignalWarm || s == backend.SignalCold; s = <-sig {
		srv.SetCold(s == backend.SignalCold)
	}
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "sniproof backend: close: %v\n", err)
		return 1
	}
	return exitOK
}
