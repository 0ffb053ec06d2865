package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/sniproof/sniproof/docker"
	"github.com/sniproof/sniproof/harness"
)

func runImages(args []string, stdout, stderr io.Writer) int {
	fset := newFlags("images", stderr)
	if code := parse(fset, args); code >= 0 {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli, err := harness.Connect(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof images: %v\n", err)
		return exitInfra
	}
	defer cli.Close()
	im := harness.NewImages(ctx, cli, "", stderr)
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := im.Close(cctx); err != nil {
			fmt.Fprintf(stderr, "sniproof images: cleanup: %v\n", err)
		}
	}()
	recipes, err := fs.Glob(docker.Recipes, "*/*.packages")
	if err != nil {
		fmt.Fprintf(stderr, "sniproof images: %v\n", err)
		return exitInfra
	}
	for _, file := range recipes {
		image, release := path.Dir(file), strings.TrimSuffix(path.Base(file), ".packages")
		r, err := harness.LoadRecipe(image, release)
		if err != nil {
			fmt.Fprintf(stderr, "sniproof images: %v\n", err)
			return exitUsage
		}
		ref, err := im.Debian(ctx, r)
		if err != nil {
			fmt.Fprintf(stderr, "sniproof images: %v\n", err)
			return exitInfra
		}
		fmt.Fprintln(stdout, ref)
	}
	ref, err := im.Binary(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof images: %v\n", err)
		return exitInfra
	}
	fmt.Fprintln(stdout, ref)
	return exitOK
}
