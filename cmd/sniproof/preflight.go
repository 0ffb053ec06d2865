package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/sniproof/sniproof/harness"
)

// preflight checks, before anything is built, what the run needs of the
// host: a Docker engine that answers and, when an image must be built,
// mmdebstrap, the archive key of each release, a Debian archive that
// serves them, and the disk space; and Chromium when the reports are
// checked. As root on a host with apt-get it installs the packages that
// are missing; otherwise it returns one sentence with the command. It
// prints one progress line with what it found and the time it took.
func (r *conformanceRun) preflight(ctx context.Context, recipes []harness.Recipe) (*client.Client, error) {
	start := time.Now()
	bounded, cancel := context.WithTimeout(ctx, harness.PreflightBound)
	defer cancel()
	cli, err := harness.Connect(bounded)
	if err != nil {
		return nil, err
	}
	p := harness.Preflight{Docker: cli, Recipes: recipes}
	if r.reportCheck {
		p.Commands = map[string]string{r.browser: "chromium"}
	}
	f, err := p.Check(bounded)
	took := time.Since(start)
	if err == nil && len(f.Install) > 0 {
		in := harness.PlanInstall(f.Install, os.Geteuid() == 0, hasCommand("apt-get"))
		if !in.Auto {
			err = fmt.Errorf("preflight: %s: %s, then run again", strings.Join(f.Missing, ", "), in)
		} else {
			fmt.Fprintf(r.stderr, "sniproof: preflight: %s: installing %s with apt-get\n", strings.Join(f.Missing, ", "), strings.Join(in.Packages, " "))
			if err = in.Run(ctx, r.stderr, r.stderr); err == nil {
				start = time.Now()
				bounded, cancel := context.WithTimeout(ctx, harness.PreflightBound)
				defer cancel()
				f, err = p.Check(bounded)
				took = time.Since(start)
				if err == nil && len(f.Install) > 0 {
					err = fmt.Errorf("preflight: %s even after `apt-get install %s`: install what provides it from Debian, then run again",
						strings.Join(f.Missing, ", "), strings.Join(in.Packages, " "))
				}
			}
		}
	}
	if err == nil && len(f.Problems) > 0 {
		err = errors.New("preflight: " + strings.Join(f.Problems, "; "))
	}
	if err != nil {
		cli.Close()
		return nil, err
	}
	if !r.quiet {
		fmt.Fprintf(r.stderr, "sniproof: preflight: %s (%s)\n", f.Summary(len(recipes)), took.Round(time.Millisecond))
	}
	return cli, nil
}

func hasCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// buildImages builds the images the selected suites use that the engine
// lacks and the sniproof binary's image (r.binaryImage, which the suites
// then use), as many at a time as there are cores. The first build that
// fails stops the others and is returned.
func (r *conformanceRun) buildImages(ctx context.Context, cli *client.Client, recipes []harness.Recipe) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	im := harness.NewImages(ctx, cli, r.session, r.stderr)
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := im.Close(cctx); err != nil {
			fmt.Fprintf(r.stderr, "sniproof conformance: cleanup: %v\n", err)
		}
	}()
	// The binary first: when it must be compiled, the compile overlaps the
	// first builds' downloads.
	builds := []func() error{func() (err error) { r.binaryImage, err = im.Binary(ctx); return err }}
	for _, rec := range recipes {
		builds = append(builds, func() error { _, err := im.Debian(ctx, rec); return err })
	}
	// A slot is taken before its build starts, so that builds start in
	// the list's order.
	slots := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for _, build := range builds {
		slots <- struct{}{}
		if ctx.Err() != nil {
			<-slots
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := build(); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
