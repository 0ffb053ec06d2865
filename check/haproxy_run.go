package check

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// haproxyAdapter checks HAProxy configurations: one file, haproxy.cfg or
// another name, or a folder holding haproxy.cfg.
type haproxyAdapter struct {
	// p is what load read of the configuration.
	p *haPlan
}

func init() { register(ProxyHAProxy, func() adapter { return &haproxyAdapter{} }) }

var haproxyKind = mustKind(ProxyHAProxy)

func (a *haproxyAdapter) kind() harness.Kind { return haproxyKind }

func (a *haproxyAdapter) load(r *runner) (error, error) {
	file, err := haproxyFile(r.opts.Config)
	if err != nil {
		return nil, err
	}
	confDir := r.opts.ConfDir
	if confDir == "" {
		confDir = DefaultHAProxyDir
	}
	if !path.IsAbs(confDir) {
		return nil, usagef("--conf-dir must be an absolute path in the container, got %q", confDir)
	}
	main := path.Join(confDir, filepath.Base(file))
	r.newReport(filepath.Dir(file), main)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("cannot read the configuration %s: %v", file, cause(err))
	}
	cfg, parseErr := lint.ParseHAProxy(filepath.Base(file), data)
	if parseErr != nil {
		a.p = &haPlan{host: file, main: main, data: data}
		return parseErr, nil
	}
	a.p = newHAPlan(cfg, file, main)
	a.p.data = data
	return nil, nil
}

func (a *haproxyAdapter) plan(r *runner) {
	r.up = &a.p.Upstreams
	r.rep.Notes = append(r.rep.Notes, a.p.notes...)
}

// judge judges the configuration with lint's rules for the version the
// image runs, which sni-auto (3.3) changes, its conditional blocks read
// as that version reads them.
func (a *haproxyAdapter) judge(r *runner) {
	cfg := a.p.cfg
	if c, err := lint.ParseHAProxyFor(cfg.File, cfg.Text, r.rep.Version); err == nil {
		cfg = c
	}
	a.p.findings = cfg.Findings()
	for _, f := range a.p.findings {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// host runs sleep, as HAProxy has no idle mode.
func (a *haproxyAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

func (a *haproxyAdapter) ports(r *runner) []int {
	var listen []int
	for _, f := range a.p.frontends {
		for _, b := range f.binds {
			if b.Reachable && !slices.Contains(listen, b.Port) {
				listen = append(listen, b.Port)
			}
		}
	}
	return listen
}

// launch copies the configuration with the files it names where HAProxy
// opens them, runs haproxy -c and then haproxy -db, in HAProxy's working
// directory.
func (a *haproxyAdapter) launch(ctx context.Context, r *runner) error {
	a.judge(r)
	var err error
	if a.p.workDir, err = a.workingDir(r, ctx); err != nil {
		return err
	}
	if err := a.copyFiles(r, ctx, a.p.data); err != nil {
		return err
	}
	if err := a.test(r, ctx); err != nil || r.rep.Rejected != nil {
		return err
	}
	return a.start(r, ctx, a.ports(r))
}

func (a *haproxyAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	return a.testUnparsable(r, ctx, a.p.data, perr)
}

func (a *haproxyAdapter) jobs(r *runner, entries []Entry) []job { return a.allJobs(r, entries) }

// own drops every event of a request its backend did not serve when
// HAProxy holds all the backend's servers DOWN: it sent the request to no
// server, so what reached their addresses was health checks, whose SNI is
// the checks' own and whose timing no verdict may depend on.
func (a *haproxyAdapter) own(r *runner, j *job, events []backend.Event, answered bool) []backend.Event {
	b, _ := j.via.(*haBackend)
	if answered || b == nil {
		return events
	}
	log := r.proxy.Log.Lines(0)
	for _, s := range b.servers {
		if !serverDown(log, b.sec.Name, s.Name) {
			return events
		}
	}
	return nil
}

// serverDown reports whether HAProxy's last word on a server in its log
// is that it is DOWN.
func serverDown(log []string, backendName, server string) bool {
	down := false
	prefix := "Server " + backendName + "/" + server + " is "
	for _, l := range log {
		if i := strings.Index(l, prefix); i >= 0 {
			down = strings.HasPrefix(l[i+len(prefix):], "DOWN")
		}
	}
	return down
}

func (a *haproxyAdapter) diagnose(r *runner, j *job, obs *harness.Observation) diagnosis {
	b, _ := j.via.(*haBackend)
	return diagnoseHA(b, obs, r.proxy.Log.Lines(0), r.rep.Version)
}

func (a *haproxyAdapter) describe(r *runner, j *job) {
	if b, ok := j.via.(*haBackend); ok {
		j.loc.Lint = a.lintAt(b.sec, a.p.frontendLabelled(j.loc.Server))
		j.loc.Config = a.text(b.sec)
	}
}

// haproxyFile is the file CONFIG names: itself, or the haproxy.cfg of a
// folder.
func haproxyFile(named string) (string, error) {
	st, err := os.Stat(named)
	if err != nil {
		return "", usagef("cannot read the configuration %s: %v", named, cause(err))
	}
	file := named
	if st.IsDir() {
		file = filepath.Join(named, "haproxy.cfg")
		if st, err = os.Stat(file); err != nil {
			return "", usagef("the folder %s has no haproxy.cfg", named)
		}
	}
	if !st.Mode().IsRegular() {
		return "", usagef("cannot read the configuration %s: not a regular file", file)
	}
	return file, readable(file)
}

// copyFiles copies the configuration into the container, with the files it
// names that its folder holds, each where HAProxy opens it (see
// haPlan.files); the run's CA goes at every server ca-file (and at a
// missing bind ca-file), a throwaway certificate and key at every missing
// crt, and the folders HAProxy needs at start are made.
func (a *haproxyAdapter) copyFiles(r *runner, ctx context.Context, main []byte) error {
	p := a.p
	files := map[string][]byte{p.main: main}
	for _, f := range p.files() {
		if _, done := files[f.path]; done {
			continue
		}
		from := f.Line.Pos()
		if f.relative() {
			from += fmt.Sprintf(", %s relative to HAProxy's working directory", f.PathFrom(""))
		}
		if f.Keyword == "ca-file" && f.server() {
			files[f.path] = r.ca.CertPEM()
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (ca-file at %s), so that HAProxy trusts the backend's certificate", f.path, from))
			continue
		}
		if host, elsewhere := p.hostPath(f); host != "" {
			if data, err := os.ReadFile(host); err == nil {
				files[f.path] = data
				if elsewhere {
					r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s %s (%s) is relative to HAProxy's working directory: HAProxy opens %s, not %s; check copied your folder's %s there, where the host must have it too",
						f.Keyword, f.Name, f.Line.Pos(), f.path, path.Join(path.Dir(p.main), f.PathFrom("")), f.PathFrom("")))
				}
				continue
			} else if !errors.Is(err, os.ErrNotExist) {
				return usagef("cannot read %s (named at %s): %v", host, f.Line.Pos(), cause(err))
			}
		}
		switch f.Keyword {
		case "ca-file":
			files[f.path] = r.ca.CertPEM()
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s (ca-file at %s) is not in your folder: the run's CA was written there", f.path, from))
		case "crt":
			if code, _, err := r.proxy.Run(ctx, "test", "-e", f.path); err == nil && code == 0 {
				continue
			}
			cert, key, err := r.leafPEM("localhost")
			if err != nil {
				return err
			}
			target := f.path
			if strings.HasSuffix(target, "/") {
				target += "sniproof-throwaway.pem"
			}
			files[target] = append(cert, key...)
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("crt %s (%s) is missing: check made a throwaway certificate and key there", f.path, from))
		}
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into haproxy", Err: err}
	}
	for _, dir := range p.runDirs() {
		if code, _, err := r.proxy.Run(ctx, "test", "-d", dir); err == nil && code == 0 {
			continue
		}
		if code, _, err := r.proxy.Run(ctx, "mkdir", "-p", dir); err == nil && code == 0 {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("made the folder %s, which the configuration needs and the image lacks", dir))
		}
	}
	return nil
}

// haUnitScript prints the haproxy.service systemd would run (the first
// of its unit folders holding one) and the text of it and its drop-ins,
// or without a unit the working directory commands get in the image.
const haUnitScript = `for u in /etc/systemd/system/haproxy.service /lib/systemd/system/haproxy.service /usr/lib/systemd/system/haproxy.service; do
  if [ -f "$u" ]; then echo "$u"; cat "$u" "$u".d/*.conf 2>/dev/null; exit 0; fi
done
pwd`

// workingDir is the working directory HAProxy's service gives it in the
// image (see workDirOf), which haproxy -c and haproxy -db run in; a note
// says which.
func (a *haproxyAdapter) workingDir(r *runner, ctx context.Context) (string, error) {
	code, out, err := r.proxy.Run(ctx, "sh", "-c", haUnitScript)
	if err != nil || code != 0 {
		return "", &harness.InfraError{Op: "find haproxy's working directory", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	dir, note := workDirOf(out)
	r.rep.Notes = append(r.rep.Notes, note)
	return dir, nil
}

// workDirOf reads haUnitScript's output: a unit's WorkingDirectory= (the
// last absolute one; an empty one resets it), else systemd's default for
// a system service, /; without a unit, the image's own working
// directory, as docker run gives it. note says which.
func workDirOf(out string) (dir, note string) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	unit := strings.TrimSpace(lines[0])
	if !strings.HasSuffix(unit, "/haproxy.service") {
		dir = unit
		if !path.IsAbs(dir) {
			dir = "/"
		}
		return dir, fmt.Sprintf("haproxy runs with working directory %s, the image's own (it has no haproxy.service): relative paths in the configuration resolve there", dir)
	}
	dir = "/"
	for _, l := range lines[1:] {
		v, ok := strings.CutPrefix(strings.TrimSpace(l), "WorkingDirectory=")
		v = strings.TrimPrefix(v, "-")
		switch {
		case ok && v == "":
			dir = "/"
		case ok && path.IsAbs(v):
			dir = v
		}
	}
	return dir, fmt.Sprintf("haproxy runs with working directory %s as the image's haproxy.service (%s) gives it under systemd: relative paths in the configuration resolve there", dir, unit)
}

// exec runs cmd in the HAProxy container with working directory dir, as
// ProxyHost.Run runs it in the image's.
func (a *haproxyAdapter) exec(r *runner, ctx context.Context, dir string, cmd ...string) (int, string, error) {
	code, out, err := r.proxy.Exec(ctx, cmd, tcexec.Multiplexed(), tcexec.WithWorkingDir(dir))
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", strings.Join(cmd, " "), err)
	}
	data, _ := io.ReadAll(out)
	return code, string(data), nil
}

// haFileLine is the [FILE:LINE] of HAProxy's messages.
var haFileLine = regexp.MustCompile(`\[(/[^\]:]+):(\d+)\]`)

// test runs haproxy -c in HAProxy's working directory; a configuration
// it refuses sets Rejected.
func (a *haproxyAdapter) test(r *runner, ctx context.Context) error {
	code, out, err := a.exec(r, ctx, a.p.workDir, haproxyKind.TestCmd(a.p.main)...)
	if err != nil {
		return &harness.InfraError{Op: "haproxy -c", Err: err}
	}
	if code != 0 {
		a.reject(r, code, out)
	}
	return nil
}

// reject records HAProxy's refusal, with the operator's file and line.
func (a *haproxyAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	for _, m := range haFileLine.FindAllStringSubmatch(out, -1) {
		if rel, ok := strings.CutPrefix(m[1], path.Dir(r.rep.Main)+"/"); ok {
			ct.At = rel + ":" + m[2]
			break
		}
	}
	r.rep.Rejected = ct
}

// testUnparsable handles a configuration check cannot parse: haproxy -c
// runs on it, and its message is the verdict.
func (a *haproxyAdapter) testUnparsable(r *runner, ctx context.Context, data []byte, perr error) (*Report, error) {
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, map[string][]byte{r.rep.Main: data}); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into haproxy", Err: err}
	}
	dir, err := a.workingDir(r, ctx)
	if err != nil {
		return nil, err
	}
	code, out, err := a.exec(r, ctx, dir, haproxyKind.TestCmd(r.rep.Main)...)
	if err != nil {
		return nil, &harness.InfraError{Op: "haproxy -c", Err: err}
	}
	if code == 0 {
		return nil, usagef("sniproof cannot parse the configuration: %v (haproxy -c accepts it)", perr)
	}
	a.reject(r, code, out)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; haproxy -c ran on the file", perr))
	r.rep.summarise()
	return r.rep, nil
}

// start starts HAProxy in the foreground with the configuration,
// unchanged, in its working directory, its output on the container's, and
// waits until it listens on every published port.
func (a *haproxyAdapter) start(r *runner, ctx context.Context, ports []int) error {
	from := r.proxy.Log.Len()
	cmd := fmt.Sprintf("haproxy -db -f %s </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!", harness.ShellQuote(a.p.main))
	code, out, err := a.exec(r, ctx, a.p.workDir, "sh", "-c", cmd)
	if err != nil || code != 0 {
		return &harness.InfraError{Op: "start haproxy", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	pid := strings.TrimSpace(out)
	deadline := time.Now().Add(r.opts.Waits.Start)
	for {
		code, out, err := r.proxy.Run(ctx, "sh", "-c", "kill -0 "+pid+" 2>/dev/null || exit 3; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")
		if err != nil {
			return &harness.InfraError{Op: "wait for haproxy", Err: err}
		}
		if code == 3 {
			time.Sleep(200 * time.Millisecond)
			lines := strings.Join(r.proxy.Log.Lines(from), "\n")
			a.reject(r, 1, strings.TrimSpace("haproxy -c accepted the configuration, but haproxy did not start:\n"+lines))
			return nil
		}
		listening := listeningPorts(out)
		if !slices.ContainsFunc(ports, func(p int) bool { return !listening[p] }) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.say("haproxy does not listen on every port within %s; going on", r.opts.Waits.Start)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("haproxy runs your configuration unchanged (haproxy -db -f %s); check reads its messages on stderr", a.p.main))
	if err := a.waitResolved(r, ctx, from); err != nil {
		return err
	}
	if a.p.checks > 0 {
		r.say("waiting %s for the first verdicts of %d servers' health checks", a.p.checkWait, a.p.checks)
		select {
		case <-time.After(a.p.checkWait):
		case <-ctx.Done():
			return ctx.Err()
		}
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%d servers have health checks: requests started %s after HAProxy, when a server whose checks fail is DOWN (a first check, fall-1 more inter apart, at most %s)",
			a.p.checks, a.p.checkWait, maxCheckWait))
	}
	return nil
}

// waitResolved waits until HAProxy says, for every server it started
// without an address (init-addr none), that the first server of its line
// has one from a DNS answer ("Server BACKEND/NAME administratively READY
// thanks to valid DNS answer", alike in 2.6 and 3.4), which the backend
// gives as the resolver the section names: requests then never race the
// resolution.
// A server with no answer within the start wait is noted, and its
// backend's requests go on.
func (a *haproxyAdapter) waitResolved(r *runner, ctx context.Context, from int) error {
	if len(a.p.unresolved) == 0 {
		return nil
	}
	r.say("waiting for %d servers' addresses from DNS", len(a.p.unresolved))
	wctx, cancel := context.WithTimeout(ctx, r.opts.Waits.Start)
	defer cancel()
	var names []string
	for _, s := range a.p.unresolved {
		name := s.Section.Name + "/" + s.Names()[0]
		if _, err := r.proxy.Log.WaitFor(wctx, from, "Server "+name+" administratively READY thanks to valid DNS answer"); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("server %s (%s) got no address from DNS within %s: HAProxy keeps it in maintenance, and its backend's requests went on without it",
				name, s.Line.Pos(), r.opts.Waits.Start))
			continue
		}
		names = append(names, name)
	}
	if len(names) > 0 {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("requests started once HAProxy had the address of %s from the resolvers the configuration names (init-addr none)", strings.Join(names, ", ")))
	}
	return nil
}

// listeningPorts are the ports in state LISTEN in /proc/net/tcp{,6}.
func listeningPorts(procNet string) map[int]bool {
	out := map[int]bool{}
	sc := bufio.NewScanner(strings.NewReader(procNet))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil {
			out[int(p)] = true
		}
	}
	return out
}

// allJobs are the backends to report: with expectations, one per entry and
// one, not checked, per TLS backend no entry requests; without, one per
// TLS backend, with the request check makes up for it.
func (a *haproxyAdapter) allJobs(r *runner, entries []Entry) []job {
	var out []job
	if entries == nil {
		for _, b := range a.p.backends {
			j := a.job(b, nil)
			f, req, why := a.p.request(b)
			if why == "" {
				why = a.skip(r, b)
			}
			if why != "" {
				j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked, j.loc.Key = NotChecked, VerdictSkip, why, j.loc.Place
			} else {
				j = a.job(b, f)
				j.loc.Request, j.loc.Key, j.port = &req, req.String(), req.Port
			}
			out = append(out, j)
		}
		return out
	}
	covered := map[*haBackend]bool{}
	for _, e := range entries {
		j := a.entryJob(r, e)
		if b, ok := j.via.(*haBackend); ok {
			covered[b] = true
		}
		out = append(out, j)
	}
	for _, b := range a.p.backends {
		if !covered[b] {
			j := a.job(b, nil)
			out = append(out, unrequested(j))
		}
	}
	return out
}

// job is the job of backend b, reached through frontend f (nil when
// unknown).
func (a *haproxyAdapter) job(b *haBackend, f *haFrontend) job {
	j := job{via: b, targets: b.targets}
	s := b.servers[0]
	j.loc = Location{Location: b.sec.Label(), At: b.sec.Pos(), Pass: "server " + strings.Join(s.Line.Args, " "), PassAt: s.Line.Pos(),
		Place: fmt.Sprintf("%s %s", a.p.cfg.File, b.sec.Label())}
	if f != nil {
		j.loc.Server = f.sec.Label()
	}
	return j
}

// skip says why the backend cannot stand for one of b's servers, or "".
func (a *haproxyAdapter) skip(r *runner, b *haBackend) string {
	if b.skip != "" {
		return b.skip
	}
	for _, t := range b.targets {
		if why := r.skipIP[t.Host]; t.IP && why != "" {
			return fmt.Sprintf("the server %s cannot be impersonated: %s", t, why)
		}
	}
	return ""
}

// entryJob routes an expectations entry: its frontend by port, then its
// backend by HAProxy's rules, where check can evaluate them.
func (a *haproxyAdapter) entryJob(r *runner, e Entry) job {
	req, exp := e.Request, e.Expect
	f := a.p.frontendFor(req.Port)
	if req.Port == 0 {
		for _, fr := range a.p.frontends {
			if l, ok := pickBind(fr); ok && (req.Scheme != "https" || l.SSL) {
				f, req.Port = fr, l.Port
				break
			}
		}
	}
	var j job
	if f == nil {
		j.loc = Location{Location: "no frontend", At: e.Source, Outcome: NotChecked, Verdict: VerdictSkip,
			NotChecked: fmt.Sprintf("no frontend binds port %d", req.Port)}
	} else {
		ssl := false
		for _, l := range f.binds {
			if l.Port == req.Port {
				ssl = l.SSL
			}
		}
		switch {
		case f.sec.Mode() == "tcp":
			req.Scheme, req.TLS = "tcp", ssl
		case req.Scheme == "":
			req.Scheme = map[bool]string{true: "https", false: "http"}[ssl]
		}
		hr := haRequest{host: req.Host, path: req.Path, method: req.Method}
		if ssl {
			hr.sni = req.Host
		}
		sec, why := a.p.route(f, hr)
		if b := a.p.backendFor(sec); b != nil {
			j = a.job(b, f)
			if skip := a.skip(r, b); skip != "" {
				j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, skip
			}
		} else {
			j.loc = Location{Location: f.sec.Label(), At: f.sec.Pos(), Server: f.sec.Label(), Place: fmt.Sprintf("%s %s", a.p.cfg.File, f.sec.Label())}
			if why != "" {
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s: check cannot tell which backend takes it (%s); it is sent and reported under the frontend", e.Request, why))
			}
		}
	}
	j.port = req.Port
	j.loc.Key, j.loc.Request, j.loc.Expect, j.loc.ExpectSource = req.String(), &req, &exp, e.Source
	return j
}

// lintAt are lint's findings on the lines in effect for a request to
// backend sec through frontend f (nil when unknown): those of both
// sections and of their defaults sections.
func (a *haproxyAdapter) lintAt(sec *lint.HASection, f *haFrontend) []Finding {
	secs := []*lint.HASection{sec, sec.Defaults}
	if f != nil {
		secs = append(secs, f.sec, f.sec.Defaults)
	}
	var out []Finding
	for _, fd := range a.p.findings {
		if slices.ContainsFunc(secs, func(s *lint.HASection) bool { return s != nil && fd.Line >= s.Line && fd.Line <= s.End }) {
			out = append(out, finding(fd))
		}
	}
	return out
}

// text is a section as written.
func (a *haproxyAdapter) text(sec *lint.HASection) string {
	lines := strings.Split(string(a.p.cfg.Text), "\n")
	if sec.Line < 1 || sec.End > len(lines) {
		return ""
	}
	return strings.Join(lines[sec.Line-1:sec.End], "\n") + "\n"
}

// diagnoseHA explains an observation of a request that backend b (nil
// when unknown) took in HAProxy version, as diagnose does for nginx; log
// is everything HAProxy wrote, where its health checks' verdicts are.
func diagnoseHA(b *haBackend, obs *harness.Observation, log []string, version string) diagnosis {
	var d diagnosis
	down := downLine(b, log)
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
	case down != "" && obs.Status == 503:
		d.Cause = CauseUnreachable
		d.Explanation = "HAProxy marked the server DOWN after failed health checks (" + down + ")"
		if s := uncheckedSNI(b); s != nil {
			d.Cause = CauseNoSNI
			d.Explanation += fmt.Sprintf(": server %s checks over TLS without check-sni, so its health check sends no SNI and the upstream refuses it", s.Name)
		}
	case obs.Backend == fixtures.BackendRefused:
		switch obs.Reason {
		case backend.ReasonMissingSNI:
			d.Cause = CauseNoSNI
			d.Explanation = "HAProxy sent no SNI" + haWhyNoSNI(b) + ", and the upstream refused the handshake" + alertOf(obs)
		case backend.ReasonUnknownSNI:
			d.Cause = CauseWrongName
			d.Explanation = fmt.Sprintf("HAProxy sent SNI %q%s, a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), haWhyName(b, version), alertOf(obs))
		default:
			d.Cause = CauseTimeout
			d.Explanation = "the upstream never answered the handshake"
		}
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = "the handshake with the upstream failed"
		if b != nil && slices.ContainsFunc(b.servers, func(s *lint.HAServer) bool { return s.Params["verify"] == "required" || s.Has("ca-file") }) {
			d.Cause = CauseVerify
			d.Explanation = "HAProxy refused the upstream's certificate"
		}
		d.Explanation += fmt.Sprintf(" (the upstream saw %q)", obs.Reason)
	default:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		if obs.Status == 504 || strings.Contains(strings.ToLower(obs.Error), "timeout") {
			d.Cause, d.Explanation = CauseTimeout, "the request timed out before any ClientHello reached the upstream"
		} else {
			d.Cause, d.Explanation = CauseUnreachable, "no ClientHello reached the upstream"
		}
	}
	d.Fix = haFix(d.Cause, b, obs, version)
	return d
}

// alertOf is " (alert N)" for the alert the backend refused with, or "".
func alertOf(obs *harness.Observation) string {
	for _, ev := range obs.Events {
		if ev.Kind == backend.KindRefused && ev.Alert != 0 {
			return fmt.Sprintf(" (alert %d)", ev.Alert)
		}
	}
	return ""
}

// haWhyNoSNI says why HAProxy sent no SNI for backend b.
func haWhyNoSNI(b *haBackend) string {
	if b == nil {
		return ""
	}
	for _, s := range b.servers {
		if !s.Has("sni") {
			return fmt.Sprintf(": server %s (%s) has ssl without sni, and HAProxy sends none then", s.Name, s.Line.Pos())
		}
	}
	return fmt.Sprintf(": the sni expression of server %s (%s) was empty for this request", b.servers[0].Name, b.servers[0].Line.Pos())
}

// haWhyName says where the name HAProxy version sent comes from.
func haWhyName(b *haBackend, version string) string {
	if b == nil {
		return ""
	}
	for _, s := range b.servers {
		if v, ok := s.Params["sni"]; ok {
			return fmt.Sprintf(" (sni %s of server %s at %s)", v, s.Name, s.Line.Pos())
		}
		if s.HostAsSNI(version) {
			return fmt.Sprintf(" (the request's Host: server %s at %s has ssl without sni, and HAProxy %s sends the Host as SNI then, sni-auto since 3.3)", s.Name, s.Line.Pos(), version)
		}
	}
	return ""
}

// downLine is HAProxy's message marking a server of b DOWN, trimmed, or "".
func downLine(b *haBackend, log []string) string {
	if b == nil {
		return ""
	}
	for _, l := range log {
		if i := strings.Index(l, "Server "+b.sec.Name+"/"); i >= 0 && strings.Contains(l, " is DOWN") {
			return strings.TrimSpace(l[i:])
		}
	}
	return ""
}

// uncheckedSNI is b's first server whose SSL health check sends no SNI.
func uncheckedSNI(b *haBackend) *lint.HAServer {
	for _, s := range b.servers {
		if s.Has("check") && !s.Has("check-sni") && !s.Has("port") && !s.Has("addr") {
			return s
		}
	}
	return nil
}

// haFix is the server-line change that fixes a cause for backend b in
// HAProxy version.
func haFix(cause string, b *haBackend, obs *harness.Observation, version string) string {
	if b == nil {
		return ""
	}
	var parts []string
	for _, s := range b.servers {
		name := s.SuggestName()
		var add []string
		switch cause {
		case CauseNoSNI:
			if !s.Has("sni") {
				add = append(add, fmt.Sprintf("sni str(%s)", name))
			}
			if s.Has("check") && !s.Has("check-sni") {
				add = append(add, "check-sni "+name)
			}
		case CauseWrongName:
			if v, ok := s.Params["sni"]; ok {
				add = append(add, fmt.Sprintf("sni str(%s) instead of sni %s", name, v))
			} else if s.HostAsSNI(version) {
				add = append(add, fmt.Sprintf("sni str(%s)", name))
			}
		case CauseVerify:
			add = append(add, "ca-file <the CA bundle that issued the upstream's certificate>")
			if deref(obs.SNI) == "" && !s.Has("verifyhost") {
				add = append(add, fmt.Sprintf("sni str(%s)", name))
			}
		}
		if len(add) > 0 {
			parts = append(parts, fmt.Sprintf("server %s: %s   # %s", s.Name, strings.Join(add, " "), s.Line.Pos()))
		}
	}
	return strings.Join(parts, "; ")
}
