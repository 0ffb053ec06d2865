package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sniproof/sniproof/harness"
)

func runSweep(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sweep", stderr)
	session := fs.String("session", "", "session `id` whose containers, networks and partial image tags to remove")
	all := fs.Bool("all", false, "remove the containers and networks of every sniproof session, and every partial image tag")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if (*session == "") == !*all {
		fmt.Fprintln(stderr, "sniproof sweep: give exactly one of --session ID or --all")
		return exitUsage
	}
	ctx := context.Background()
	cli, err := harness.Connect(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof sweep: %v\n", err)
		return exitInfra
	}
	defer cli.Close()
	swept, err := harness.Sweep(ctx, cli, *session)
	fmt.Fprintf(stdout, "removed %d container(s), %d network(s), %d volume(s) and %d partial image tag(s)\n", swept.Containers, swept.Networks, swept.Volumes, swept.PartialTags)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof sweep: %v\n", err)
		return exitInfra
	}
	return exitOK
}
