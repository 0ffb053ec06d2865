package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// nginxAdapter checks nginx configurations: a whole nginx.conf with the
// files it includes, or site files check wraps in a main file of its own.
type nginxAdapter struct {
	// cfg is the configuration load read, p the plan made of it.
	cfg *Config
	p   *Plan
}

func init() { register(ProxyNginx, func() adapter { return &nginxAdapter{} }) }

var nginxKind = mustKind(ProxyNginx)

func (a *nginxAdapter) kind() harness.Kind { return nginxKind }

// claims every configuration no other adapter claims.
func (a *nginxAdapter) claims(string) bool { return true }

// nginxTest is nginx's configuration test of main, with the error log on
// stderr that every run of check adds.
func nginxTest(main string) []string {
	return append(nginxKind.TestCmd(main), "-g", globalDirectives)
}

func (a *nginxAdapter) load(r *runner) (error, error) {
	cfg, err := LoadConfig(r.opts.Config, r.opts.ConfDir)
	var parseErr *lint.ConfigError
	if err != nil && !errors.As(err, &parseErr) {
		return nil, err
	}
	a.cfg = cfg
	rep := r.newReport(cfg.Tree.Options.HostDir, cfg.Main())
	rep.Wrapped = cfg.Wrapped
	if cfg.Wrapped {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s is site files, not a whole nginx.conf: check wrapped %s in a minimal main file of its own, %s (events {} and http { include ... })",
			r.opts.Config, strings.Join(cfg.Sites, ", "), cfg.Main()))
	}
	if parseErr != nil {
		return parseErr, nil
	}
	return nil, nil
}

func (a *nginxAdapter) plan(r *runner) {
	a.p = NewPlan(a.cfg)
	r.up = &a.p.Upstreams
	r.rep.Notes = append(r.rep.Notes, a.p.Notes...)
	for _, f := range a.cfg.Tree.Findings {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// host runs an idle nginx, which proves that the image has nginx.
func (a *nginxAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunNginxHost(ctx, r.rep.Image, networks, opts...)
}

func (a *nginxAdapter) ports(r *runner) []int {
	var ports []int
	for _, s := range a.p.Servers {
		for _, l := range s.Listens {
			if l.Reachable && !slices.Contains(ports, l.Port) && l.Port > 0 {
				ports = append(ports, l.Port)
			}
		}
	}
	return ports
}

// own keeps every event: nginx makes no connection of its own.
func (a *nginxAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *nginxAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	return diagnose(passOf(j), obs)
}

func (a *nginxAdapter) describe(r *runner, j *job) {
	v := viaOf(j)
	j.loc.Lint = a.lintFor(r, v.pass, v.block)
	j.loc.Config = a.blockText(r, v.block)
}
