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
type nginxAdapter struct{}

func init() { register(ProxyNginx, func() adapter { return nginxAdapter{} }) }

var nginxKind = mustKind(ProxyNginx)

func (nginxAdapter) kind() harness.Kind { return nginxKind }

// claims every configuration no other adapter claims.
func (nginxAdapter) claims(string) bool { return true }

// nginxTest is nginx's configuration test of main, with the error log on
// stderr that every run of check adds.
func nginxTest(main string) []string {
	return append(nginxKind.TestCmd(main), "-g", globalDirectives)
}

func (nginxAdapter) load(r *runner) (error, error) {
	cfg, err := LoadConfig(r.opts.Config, r.opts.ConfDir)
	var parseErr *lint.ConfigError
	if err != nil && !errors.As(err, &parseErr) {
		return nil, err
	}
	r.cfg = cfg
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

func (nginxAdapter) plan(r *runner) {
	r.plan = NewPlan(r.cfg)
	r.up = &r.plan.Upstreams
	r.rep.Notes = append(r.rep.Notes, r.plan.Notes...)
	for _, f := range r.cfg.Tree.Findings {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// host runs an idle nginx, which proves that the image has nginx.
func (nginxAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunNginxHost(ctx, r.rep.Image, networks, opts...)
}

func (nginxAdapter) ports(r *runner) []int {
	var ports []int
	for _, s := range r.plan.Servers {
		for _, l := range s.Listens {
			if l.Reachable && !slices.Contains(ports, l.Port) && l.Port > 0 {
				ports = append(ports, l.Port)
			}
		}
	}
	return ports
}

func (nginxAdapter) jobs(r *runner, entries []Entry) []job { return r.jobs(entries) }

// own keeps every event: nginx makes no connection of its own.
func (nginxAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (nginxAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	return diagnose(j.pass, obs)
}

func (nginxAdapter) describe(r *runner, j *job) {
	j.loc.Lint = r.lintFor(j.pass, j.node)
	j.loc.Config = r.blockText(j.node)
}
