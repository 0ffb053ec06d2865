package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sniproof/sniproof/proxy"
)

// proxyDrainTimeout bounds how long the proxy lets requests in flight
// finish once told to stop.
const proxyDrainTimeout = 10 * time.Second

func runProxy(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("proxy", stderr)
	config := fs.String("config", "", "JSON `file` with the frontends and routes (required)")
	await := fs.Bool("await", false, "wait until the --config file exists, then serve it (for a container whose configuration is copied in after it starts)")
	test := fs.Bool("test", false, "test the configuration and the files it names (certificates, CA bundles), as nginx -t does, and exit: 0 when it can be served")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *config == "" {
		fmt.Fprintln(stderr, "sniproof proxy: --config FILE is required")
		return exitUsage
	}
	if *await {
		if code := awaitFile(*config, stderr); code >= 0 {
			return code
		}
	}
	cfg, err := proxy.LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof proxy: %v\n", err)
		return exitUsage
	}
	// The log shares stderr, so that error and access lines keep their
	// order with the lines below.
	srv, err := proxy.New(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof proxy: %v\n", err)
		return exitUsage
	}
	if *test {
		fmt.Fprintf(stderr, "sniproof proxy: the configuration %s is ok\n", *config)
		return exitOK
	}
	if err := srv.Start(); err != nil {
		fmt.Fprintf(stderr, "sniproof proxy: %v\n", err)
		return 1
	}
	var addrs []string
	if a := srv.HTTPAddr(); a != nil {
		addrs = append(addrs, "http="+a.String())
	}
	if a := srv.HTTPSAddr(); a != nil {
		addrs = append(addrs, "https="+a.String())
	}
	fmt.Fprintf(stderr, "sniproof proxy: ready, %s\n", strings.Join(addrs, " "))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), proxyDrainTimeout)
	defer cancel()
	code := exitOK
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "sniproof proxy: %v\n", err)
		code = 1
	}
	fmt.Fprintln(stderr, "sniproof proxy: stopped")
	return code
}

// awaitFile waits until file exists, or a signal says to stop: -1 when it
// exists, else the exit code.
func awaitFile(file string, stderr io.Writer) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	fmt.Fprintf(stderr, "sniproof proxy: waiting for %s\n", file)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(file); err == nil {
			return -1
		}
		select {
		case <-sig:
			fmt.Fprintln(stderr, "sniproof proxy: stopped")
			return exitOK
		case <-tick.C:
		}
	}
}
