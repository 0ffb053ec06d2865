package check

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/harness"
)

// adapter is one proxy's part of a check: what its configuration language
// and its process need. The driver (runner.check) does the rest, the same
// for every proxy: the session, the backend impersonating the upstreams,
// the proxy's host and its door, the cold requests and the warm pass, the
// attribution of every connection by the address it reached, and the
// report. A proxy joins check with one adapter and its harness.Kind, which
// gives the process facts: its image, releases, version command and
// pattern, and its configuration test.
type adapter interface {
	// kind is the proxy's process facts.
	kind() harness.Kind
	// claims reports whether config, a file or a folder, is this proxy's
	// configuration, by its content (see ProxyKind).
	claims(config string) bool
	// load reads opts.Config into the runner and starts the report. A
	// configuration the adapter's parser refuses is parseErr: the
	// proxy's own test is then the verdict (unparsable).
	load(r *runner) (parseErr, err error)
	// plan derives, from the loaded configuration, the upstreams the
	// backend impersonates (r.up), the report's notes and lint findings.
	plan(r *runner)
	// host starts the proxy's image idle on the networks, so that the
	// configuration can be copied in, tested and started.
	host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error)
	// ports are the proxy's listen ports a request can reach.
	ports(r *runner) []int
	// launch copies the configuration into the started host, with what
	// the run lacks standing in for what the configuration names, tests
	// it (a refusal is the report's Rejected) and starts the proxy.
	launch(ctx context.Context, r *runner) error
	// unparsable starts the host and reports the proxy's own test of a
	// configuration the adapter's parser refused.
	unparsable(ctx context.Context, r *runner, parseErr error) (*Report, error)
	// jobs are the locations (backends, routes) to report, each with its
	// request and upstream targets, or why it is not checked.
	jobs(r *runner, entries []Entry) []job
	// own keeps, of the events at a job's upstream addresses during its
	// request, those of the request itself (answered: the upstream served
	// it), leaving out those of the proxy's own traffic, such as the
	// health checks of a server it holds DOWN.
	own(r *runner, j *job, events []backend.Event, answered bool) []backend.Event
	// diagnose explains a job's observation: works, or the cause and the
	// fix in the proxy's own language.
	diagnose(r *runner, j *job, obs *harness.Observation) diagnosis
	// describe adds a location's configuration as written and the lint
	// findings in effect there.
	describe(r *runner, j *job)
}

// adapters make, by proxy name, the adapter of one check (an adapter may
// keep what it read of the configuration); each proxy's adapter file
// adds its own with register.
var adapters = map[string]func() adapter{}

// register adds a proxy's adapter to check.
func register(proxy string, newAdapter func() adapter) { adapters[proxy] = newAdapter }

// ProxyKind is the proxy a configuration is for: proxy when it names one,
// else the first adapter, in the order of their names, that claims config
// by its content, else nginx, whose configurations have no mark of their
// own. An unknown proxy is a *UsageError.
func ProxyKind(proxy, config string) (string, error) {
	if proxy != "" {
		if _, ok := adapters[proxy]; !ok {
			return "", usagef("unknown proxy kind %q: check runs %s configurations", proxy, adapterNames())
		}
		return proxy, nil
	}
	for _, name := range slices.Sorted(maps.Keys(adapters)) {
		if name != ProxyNginx && adapters[name]().claims(config) {
			return name, nil
		}
	}
	return ProxyNginx, nil
}

// Proxies are the names of the proxies check runs, as --proxy takes them,
// in order.
func Proxies() []string { return slices.Sorted(maps.Keys(adapters)) }

// adapterNames are the proxies check runs, "goproxy, haproxy or nginx".
func adapterNames() string {
	names := slices.Sorted(maps.Keys(adapters))
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// check runs a configuration with its adapter: the one code path of every
// proxy.
func (r *runner) check(ctx context.Context, a adapter, entries []Entry) (*Report, error) {
	r.adapter = a
	parseErr, err := a.load(r)
	if err != nil {
		return nil, err
	}
	end, err := r.open(ctx, a.kind())
	defer end()
	if err != nil {
		return nil, err
	}
	if parseErr != nil {
		return a.unparsable(ctx, r, parseErr)
	}
	a.plan(r)
	networks, err := r.startBackend(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.startHost(ctx, networks); err != nil {
		return nil, err
	}
	if err := r.surround(ctx, a.ports(r)); err != nil {
		return nil, err
	}
	if err := r.copyRoots(ctx); err != nil {
		return nil, err
	}
	if err := a.launch(ctx, r); err != nil {
		return nil, err
	}
	if r.rep.Rejected == nil {
		r.requests(ctx, a.jobs(r, entries), func(j *job) { a.describe(r, j) })
	}
	r.rep.summarise()
	return r.rep, nil
}

// startHost starts the proxy's host on the networks and reads the
// version its binary reports (the kind's version command and pattern); an
// image without the proxy is a UsageError.
func (r *runner) startHost(ctx context.Context, networks []*testcontainers.DockerNetwork) error {
	k := r.adapter.kind()
	r.say("starting %s from %s", k.Name, r.rep.Image)
	opts, err := r.hostOptions(ctx)
	if err != nil {
		return err
	}
	r.proxy, err = r.adapter.host(ctx, r, networks, opts)
	if r.proxy != nil {
		r.rep.Containers++
	}
	if err != nil {
		if missing(err) {
			return usagef("the image %s cannot run %s (%s): name an image that contains %s (--image)", r.rep.Image, k.Name, firstLine(err), k.Name)
		}
		return &harness.InfraError{Op: "start " + k.Name, Err: err}
	}
	code, out, err := r.proxy.Run(ctx, k.VersionCmd...)
	if err != nil {
		if missing(err) {
			return usagef("the image %s has no %s on its PATH: name an image that contains %s (--image)", r.rep.Image, k.VersionCmd[0], k.Name)
		}
		return &harness.InfraError{Op: strings.Join(k.VersionCmd, " "), Err: err}
	}
	m := k.VersionRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		return usagef("the image %s has no working %s on its PATH (%s: exit %d): name an image that contains %s (--image)", r.rep.Image, k.VersionCmd[0], strings.Join(k.VersionCmd, " "), code, k.Name)
	}
	r.rep.Version = m[1]
	return nil
}

// mainFile is the configuration file CONFIG names: itself, or a folder's
// file of that name.
func mainFile(config, name string) string {
	if st, err := os.Stat(config); err == nil && st.IsDir() {
		return filepath.Join(config, name)
	}
	return config
}

// entryJobs are the jobs of an expectations file's entries, then those of
// the routes no entry requests, not checked (unrequested). reach finds the
// route an entry's request reaches, filling in what the entry leaves to
// the proxy (port, scheme), or says why none does; the entry is then not
// checked, reported as none (e.g. "no route") at its line.
func entryJobs[R comparable](entries []Entry, routes []R, none string, reach func(req *Request) (route R, ok bool, why string), jobOf func(R) job) []job {
	var out []job
	covered := map[R]bool{}
	for _, e := range entries {
		req, exp := e.Request, e.Expect
		var j job
		if rt, ok, why := reach(&req); ok {
			j = jobOf(rt)
			covered[rt] = true
		} else {
			j.loc = Location{Location: none, At: e.Source}
			j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, why
		}
		j.loc.Request, j.loc.Expect, j.loc.ExpectSource, j.loc.Key, j.port = &req, &exp, e.Source, req.String(), req.Port
		out = append(out, j)
	}
	for _, rt := range routes {
		if !covered[rt] {
			out = append(out, unrequested(jobOf(rt)))
		}
	}
	return out
}

// unrequested is j, a location no entry of the expectations file
// requests, not checked.
func unrequested(j job) job {
	j.loc.Outcome, j.loc.Verdict, j.loc.Key = NotChecked, VerdictSkip, j.loc.Place
	j.loc.NotChecked = "no entry of the expectations file requests it"
	return j
}

// missing reports whether an error says an executable is not there.
func missing(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory")
}

// testName is the kind's configuration test as reports name it: "nginx
// -t", "haproxy -c", "sniproof proxy --test"; the proxy's name for a kind
// without one (nghttpx), whose start is the test.
func testName(k harness.Kind) string {
	if k.TestCmd == nil {
		return k.Name
	}
	cmd := k.TestCmd("")
	words := strings.Fields(strings.TrimPrefix(strings.Join(cmd, " "), "/"))
	if words[0] == "sniproof" {
		return strings.Join(words[:min(3, len(words))], " ")
	}
	return strings.Join(words[:min(2, len(words))], " ")
}

// kindOf is the harness.Kind of a proxy check has an adapter for.
func kindOf(proxy string) (harness.Kind, error) {
	newAdapter, ok := adapters[proxy]
	if !ok {
		return harness.Kind{}, usagef("check has no adapter for %q: --proxy takes %s", proxy, adapterNames())
	}
	return newAdapter().kind(), nil
}

// releaseError checks a --release against the kind's releases.
func releaseError(k harness.Kind, release string) error {
	if release == "" || slices.Contains(k.Releases, release) {
		return nil
	}
	return usagef("no project image of %s for Debian %q: --release takes %s", k.Name, release, strings.Join(k.Releases, " or "))
}

// mustKind is a kind harness defines; its absence is a programming error.
func mustKind(name string) harness.Kind {
	k, err := harness.LookupKind(name)
	if err != nil {
		panic(fmt.Sprintf("check: %v", err))
	}
	return k
}

// claimsFile reports whether config's main file (mainFile with name)
// reads as looks says a proxy's configuration does.
func claimsFile(config, name string, looks func([]byte) bool) bool {
	data, err := os.ReadFile(mainFile(config, name))
	return err == nil && looks(data)
}

// relTo is a file of a configuration as reports name it: relative to dir,
// the configuration's folder, when it is in it.
func relTo(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return file
}

// startDaemon starts a proxy in the background of its host with script, a
// shell command that starts it with its output on the host's and echoes
// its pid, and waits, at most wait, until it listens on every one of
// ports. When the proxy exits first, exited is true and logged holds what
// it logged, for the adapter's rejection; one that is still starting at
// the deadline is let be, with a message.
func (r *runner) startDaemon(ctx context.Context, name, script string, ports []int, wait time.Duration) (exited bool, logged []string, err error) {
	from := r.proxy.Log.Len()
	code, out, err := r.proxy.Run(ctx, "sh", "-c", script)
	if err != nil || code != 0 {
		return false, nil, &harness.InfraError{Op: "start " + name, Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	pid := strings.TrimSpace(out)
	deadline := time.Now().Add(wait)
	for {
		code, out, err := r.proxy.Run(ctx, "sh", "-c", running(pid)+" || exit 3; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")
		if err != nil {
			return false, nil, &harness.InfraError{Op: "wait for " + name, Err: err}
		}
		if code == 3 {
			// Its last words reach the log just after it exits.
			time.Sleep(200 * time.Millisecond)
			return true, r.proxy.Log.Lines(from), nil
		}
		listening := listeningPorts(out)
		if !slices.ContainsFunc(ports, func(p int) bool { return !listening[p] }) {
			return false, nil, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.say("%s does not listen on every port within %s; going on", name, wait)
			return false, nil, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}
