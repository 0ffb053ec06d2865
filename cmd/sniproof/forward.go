package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/sniproof/sniproof/forward"
	"github.com/sniproof/sniproof/harness"
)

func runForward(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("forward", stderr)
	to := fs.String("to", "", "the target `host`: every port is relayed to the same port there (required)")
	ports := fs.String("ports", "", "comma-separated `ports` to listen on (required)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *to == "" || *ports == "" {
		fmt.Fprintln(stderr, "sniproof forward: --to HOST and --ports P[,P...] are required")
		return exitUsage
	}
	var routes []forward.Route
	for _, p := range strings.Split(*ports, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 || n > 65535 {
			fmt.Fprintf(stderr, "sniproof forward: --ports: %q is not a port (1-65535)\n", p)
			return exitUsage
		}
		port := strconv.Itoa(n)
		routes = append(routes, forward.Route{Listen: ":" + port, Target: net.JoinHostPort(*to, port)})
	}
	f, err := forward.Listen(routes)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof forward: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s, %d ports to %s\n", harness.DoorReady, len(routes), *to)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f.Serve(ctx)
	return 0
}
