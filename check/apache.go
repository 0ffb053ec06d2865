package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// ProxyApache is Apache httpd.
const ProxyApache = "apache"

// apacheAdapter checks Apache httpd configurations: a Debian /etc/apache2
// tree (a folder holding apache2.conf, or that file), run from
// /etc/apache2 with its envvars, or a lone site file, included from a
// main configuration check writes as Debian's would load it.
type apacheAdapter struct {
	// file is the configuration named, root the tree's folder ("" for a
	// lone file); main is apache2.conf's path in the container, or the
	// site file's.
	file, root, main string
	cfg              *lint.ApacheConfig
	up               Upstreams
	// programs are the stand-in programs files made, to be made
	// executable.
	programs []string
	// routes are the jobs' routes by Place.
	routes map[string]*lint.ApacheRoute
}

func init() { register(ProxyApache, func() adapter { return &apacheAdapter{} }) }

var apacheKind = mustKind(ProxyApache)

// apacheRoot is Debian's ServerRoot.
const apacheRoot = "/etc/apache2"

func (*apacheAdapter) kind() harness.Kind { return apacheKind }

func (*apacheAdapter) claims(config string) bool {
	return claimsFile(config, "apache2.conf", lint.LooksLikeApache)
}

func (a *apacheAdapter) load(r *runner) (error, error) {
	a.file = mainFile(r.opts.Config, "apache2.conf")
	if err := readable(a.file); err != nil {
		return nil, err
	}
	a.routes = map[string]*lint.ApacheRoute{}
	tree, isTree := lint.ApacheTreeOf(a.file)
	var perr error
	if isTree {
		a.root, a.main = tree.HostRoot, path.Join(apacheRoot, "apache2.conf")
		tree.Name = ""
		r.newReport(a.root, a.main)
		a.cfg, perr = lint.LoadApache(tree, "apache2.conf", a.file, a.main)
	} else {
		a.main = path.Join(apacheRoot, "sites-enabled", filepath.Base(a.file))
		r.newReport(filepath.Dir(a.file), a.main)
		data, err := os.ReadFile(a.file)
		if err != nil {
			return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
		}
		a.cfg, perr = lint.ParseApache(filepath.Base(a.file), data)
	}
	return perr, nil
}

func (a *apacheAdapter) plan(r *runner) {
	up := newCollector()
	for _, rt := range a.cfg.Routes {
		for _, t := range rt.Targets {
			up.target(apacheTarget(t))
		}
	}
	var notes []string
	a.up, notes = up.upstreams()
	r.rep.Notes = append(r.rep.Notes, notes...)
	r.rep.Notes = append(r.rep.Notes, a.cfg.Skipped...)
	r.up = &a.up
	for _, f := range a.cfg.Findings() {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// apacheTarget is where an upstream's connections go.
func apacheTarget(t lint.ApacheTarget) Target {
	host := strings.ToLower(strings.Trim(t.URL.Hostname(), "[]"))
	port := 443
	if p, err := strconv.Atoi(t.URL.Port()); err == nil {
		port = p
	}
	return Target{Host: host, Port: port, IP: lint.IsIP(host) || strings.Contains(host, ":")}
}

// host runs the image idle: Apache starts once its files are in.
func (*apacheAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

// ports are the Listen ports on every address; for a lone site file
// without Listen, its virtual hosts' ports (80 for none), which the main
// configuration check writes listens on.
func (a *apacheAdapter) ports(*runner) []int {
	var ports []int
	for _, l := range a.cfg.Listens {
		if (l.Addr == "" || l.Addr == "*" || l.Addr == "0.0.0.0" || l.Addr == "[::]") && !slices.Contains(ports, l.Port) {
			ports = append(ports, l.Port)
		}
	}
	if a.root != "" || len(a.cfg.Listens) > 0 {
		return ports
	}
	for _, v := range a.cfg.VHosts {
		p := v.Port
		if p == 0 {
			p = 80
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	if len(ports) == 0 {
		ports = []int{80}
	}
	return ports
}

// wrapper is the main configuration of a lone site file: what Debian's
// apache2.conf, ports.conf and mods-enabled give it.
func (a *apacheAdapter) wrapper(r *runner) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# sniproof check: the main configuration Debian's apache2.conf gives %s\nServerRoot %s\n", filepath.Base(a.file), apacheRoot)
	b.WriteString("DefaultRuntimeDir ${APACHE_RUN_DIR}\nPidFile ${APACHE_PID_FILE}\nMutex file:${APACHE_LOCK_DIR} default\nUser ${APACHE_RUN_USER}\nGroup ${APACHE_RUN_GROUP}\nErrorLog /dev/stderr\nLogLevel warn ssl:info\n")
	for _, m := range lint.ApacheLoneModules {
		fmt.Fprintf(&b, "<IfModule !%s_module>\n    LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n</IfModule>\n", m, m, m)
	}
	b.WriteString("# The image has no /etc/mime.types (Debian's media-types package).\nTypesConfig /dev/null\n")
	if len(a.cfg.Listens) == 0 {
		for _, p := range a.ports(r) {
			fmt.Fprintf(&b, "Listen %d\n", p)
		}
	}
	fmt.Fprintf(&b, "Include %s\n", a.main)
	return []byte(b.String())
}

// apacheEnv sets Debian's envvars, then sources the tree's own.
const apacheEnv = `export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data APACHE_PID_FILE=/var/run/apache2/apache2.pid APACHE_RUN_DIR=/var/run/apache2 APACHE_LOCK_DIR=/var/lock/apache2 APACHE_LOG_DIR=/var/log/apache2 LANG=C; [ -f /etc/apache2/envvars ] && . /etc/apache2/envvars; mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"; `

// cmd is the apache2 command line: the tree's apache2.conf from
// /etc/apache2, or the lone file's main configuration.
func (a *apacheAdapter) cmd(args string) string {
	main := a.main
	if a.root == "" {
		main = apacheKind.ConfigPath
	}
	return apacheEnv + "exec apache2 -d " + apacheRoot + " -f " + harness.ShellQuote(main) + " " + args
}

// launch copies the tree (or the site file and its main configuration)
// with stand-ins for what the run lacks, runs apache2 -t, and starts
// Apache in the foreground.
func (a *apacheAdapter) launch(ctx context.Context, r *runner) error {
	files, err := a.files(ctx, r)
	if err != nil {
		return err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into apache", Err: err}
	}
	a.dirs(ctx, r)
	code, out, err := r.proxy.Run(ctx, "sh", "-c", a.cmd("-t")+" 2>&1")
	if err != nil {
		return &harness.InfraError{Op: "apache2 -t", Err: err}
	}
	if code != 0 {
		a.reject(r, code, out)
		return nil
	}
	from := r.proxy.Log.Len()
	code, out, err = r.proxy.Run(ctx, "sh", "-c", a.cmd("-D FOREGROUND")+" </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!")
	if err != nil || code != 0 {
		return &harness.InfraError{Op: "start apache", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	pid := strings.TrimSpace(out)
	ports := a.ports(r)
	deadline := time.Now().Add(r.opts.Waits.Start)
	for {
		// A dead apache2 is a zombie of the idle host's process 1.
		code, out, err := r.proxy.Run(ctx, "sh", "-c", "grep -qs '^State:[[:space:]]*[^Z]' /proc/"+pid+"/status || exit 3; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")
		if err != nil {
			return &harness.InfraError{Op: "wait for apache", Err: err}
		}
		if code == 3 {
			time.Sleep(200 * time.Millisecond)
			a.reject(r, 1, "apache2 -t accepted the configuration, but apache2 did not start:\n"+strings.Join(r.proxy.Log.Lines(from), "\n")+a.errorLog(ctx, r))
			return nil
		}
		listening := listeningPorts(out)
		if !slices.ContainsFunc(ports, func(p int) bool { return !listening[p] }) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.say("apache2 does not listen on every port within %s; going on", r.opts.Waits.Start)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("apache2 runs your configuration unchanged (apache2 -d %s -f %s -D FOREGROUND, with Debian's envvars)", apacheRoot, a.mainFile()))
	return nil
}

// errorLog is the end of the main server's ErrorLog file, "" when it
// logs to the container's output.
func (a *apacheAdapter) errorLog(ctx context.Context, r *runner) string {
	for _, n := range a.cfg.Nodes {
		if n.Is("ErrorLog") && path.IsAbs(n.Arg(0)) && !strings.HasPrefix(n.Arg(0), "/dev/") && !strings.HasPrefix(n.Arg(0), "/proc/") {
			if code, out, err := r.proxy.Run(ctx, "tail", "-n", "20", n.Arg(0)); err == nil && code == 0 {
				return fmt.Sprintf("\n%s (ErrorLog at %s):\n%s", n.Arg(0), n.Pos(), out)
			}
		}
	}
	return ""
}

// mainFile is the configuration apache2 reads first.
func (a *apacheAdapter) mainFile() string {
	if a.root == "" {
		return apacheKind.ConfigPath
	}
	return a.main
}

// containerPath is where Apache opens a path the configuration names.
func containerPath(p string) string {
	if !path.IsAbs(p) {
		p = path.Join(apacheRoot, p)
	}
	return path.Clean(p)
}

// files are the configuration's files where Apache opens them, with the
// run's CA at every SSLProxyCACertificateFile, a throwaway certificate at
// every missing SSLCertificateFile and key, an empty file at every
// missing Include outside the tree.
func (a *apacheAdapter) files(ctx context.Context, r *runner) (map[string][]byte, error) {
	files := map[string][]byte{}
	if a.root == "" {
		data, err := os.ReadFile(a.file)
		if err != nil {
			return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
		}
		files[a.main], files[apacheKind.ConfigPath] = data, a.wrapper(r)
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s is a lone site file: check put it at %s, included from %s, which loads Debian's default modules and mod_proxy, mod_proxy_http, mod_proxy_balancer, mod_rewrite, mod_headers and mod_ssl as mods-enabled would", a.file, a.main, apacheKind.ConfigPath))
	} else {
		err := filepath.WalkDir(a.root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			st, serr := os.Stat(p)
			if serr != nil || !st.Mode().IsRegular() || st.Size() > 16<<20 {
				return nil
			}
			data, rerr := os.ReadFile(p)
			if rerr != nil {
				return rerr
			}
			rel, _ := filepath.Rel(a.root, p)
			files[path.Join(apacheRoot, filepath.ToSlash(rel))] = data
			return nil
		})
		if err != nil {
			return nil, usagef("cannot read the tree %s: %v", a.root, cause(err))
		}
	}
	exists := func(p string) bool {
		if _, ok := files[p]; ok {
			return true
		}
		code, _, err := r.proxy.Run(ctx, "test", "-e", p)
		return err == nil && code == 0
	}
	for _, o := range a.cfg.Outside {
		switch {
		case o.Optional || strings.ContainsAny(o.Path, "*?[") || exists(o.Path):
		case path.Base(o.Path) == lint.CertbotOptions:
			files[o.Path] = fmt.Appendf(nil, "# sniproof check: a stand-in for certbot's %s, which the run lacks\nSSLEngine on\n", o.Path)
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Include %s (%s), certbot's, is not in the run: check put a stand-in there with its SSLEngine on (name the real folder with --root %s=DIR)", o.Path, o.At.Pos(), path.Dir(o.Path)))
		default:
			files[o.Path] = fmt.Appendf(nil, "# sniproof check: an empty stand-in for %s, which the run lacks\n", o.Path)
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Include %s (%s) is not in the run: check put an empty stand-in there (name the real folder with --root %s=DIR)", o.Path, o.At.Pos(), path.Dir(o.Path)))
		}
	}
	var servers [][]*lint.ApacheNode
	top := []*lint.ApacheNode{}
	var walk func(ns []*lint.ApacheNode, main bool)
	walk = func(ns []*lint.ApacheNode, main bool) {
		for _, n := range ns {
			switch {
			case n.Section && n.Is("VirtualHost"):
				servers = append(servers, n.Children)
				walk(n.Children, false)
			case n.Section:
				walk(n.Children, false)
			case n.Is("SSLPassPhraseDialog") && strings.HasPrefix(n.Arg(0), "exec:"):
				p := containerPath(strings.TrimPrefix(n.Arg(0), "exec:"))
				if !exists(p) {
					files[p] = []byte("#!/bin/sh\n# sniproof check: a stand-in for the pass phrase program Debian's apache2 package installs\nexit 1\n")
					a.programs = append(a.programs, p)
					r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("SSLPassPhraseDialog %s (%s) is not in the image (Debian's apache2 package installs it, the image has apache2-bin only): check put a stand-in program there", n.Arg(0), n.Pos()))
				}
			case n.Is("TypesConfig") && len(n.Args) > 0:
				if p := containerPath(n.Arg(0)); !exists(p) {
					files[p] = []byte("# sniproof check: an empty stand-in for the media types list Debian's media-types package installs\n")
					r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("TypesConfig %s (%s) is not in the image (Debian's media-types package installs it): check put an empty list there", p, n.Pos()))
				}
			case n.Is("SSLProxyCACertificateFile") && len(n.Args) > 0:
				p := containerPath(n.Arg(0))
				files[p] = r.ca.CertPEM()
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (SSLProxyCACertificateFile at %s), so that Apache trusts the backend's certificate as it trusts the upstream's in production", p, n.Pos()))
			case main:
				top = append(top, n)
			}
		}
	}
	walk(a.cfg.Nodes, true)
	for _, ns := range append(servers, top) {
		var cert, key *lint.ApacheNode
		for _, n := range ns {
			switch {
			case n.Is("SSLCertificateFile"):
				cert = n
			case n.Is("SSLCertificateKeyFile"):
				key = n
			}
		}
		if cert == nil {
			continue
		}
		certPath := containerPath(cert.Arg(0))
		keyMissing := key != nil && !exists(containerPath(key.Arg(0)))
		if exists(certPath) && !keyMissing {
			continue
		}
		c, k, err := r.leafPEM("localhost")
		if err != nil {
			return nil, err
		}
		if key == nil {
			files[certPath] = append(c, k...)
		} else {
			files[certPath], files[containerPath(key.Arg(0))] = c, k
		}
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the certificate %s (SSLCertificateFile at %s) or its key is missing: check made a throwaway certificate and key there", certPath, cert.Pos()))
	}
	return files, nil
}

// dirs makes the stand-in programs executable, and the folders of the
// log files the configuration names that the image lacks, as Debian's
// package has them.
func (a *apacheAdapter) dirs(ctx context.Context, r *runner) {
	var dirs []string
	var walk func(ns []*lint.ApacheNode)
	walk = func(ns []*lint.ApacheNode) {
		for _, n := range ns {
			if n.Section {
				walk(n.Children)
				continue
			}
			if (n.Is("ErrorLog") || n.Is("CustomLog") || n.Is("TransferLog")) && len(n.Args) > 0 && !strings.HasPrefix(n.Arg(0), "|") && !strings.HasPrefix(n.Arg(0), "syslog") {
				if d := path.Dir(containerPath(n.Arg(0))); !slices.Contains(dirs, d) && !strings.Contains(d, "${") {
					dirs = append(dirs, d)
				}
			}
		}
	}
	walk(a.cfg.Nodes)
	for _, p := range a.programs {
		if code, out, err := r.proxy.Run(ctx, "chmod", "755", p); err != nil || code != 0 {
			r.say("chmod 755 %s: exit %d: %v %s", p, code, err, out)
		}
	}
	for _, d := range dirs {
		if code, _, err := r.proxy.Run(ctx, "test", "-d", d); err == nil && code == 0 {
			continue
		}
		if code, _, err := r.proxy.Run(ctx, "mkdir", "-p", d); err == nil && code == 0 {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("made the folder %s, which a log file of the configuration needs and the image lacks", d))
		}
	}
}

// apacheAt is apache2 -t's "on line N of FILE".
var apacheAt = regexp.MustCompile(`on line (\d+) of (/\S+?):?\s`)

// reject records Apache's refusal, with the operator's file and line.
func (a *apacheAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	// The innermost file is the last named: "on line 91 of apache.conf:
	// Syntax error on line 1 of sites-enabled/site.conf".
	if all := apacheAt.FindAllStringSubmatch(out+" ", -1); all != nil {
		m := all[len(all)-1]
		file := m[2]
		if a.root == "" && file == a.main {
			file = filepath.Base(a.file)
		} else if rel, ok := strings.CutPrefix(file, apacheRoot+"/"); ok {
			file = rel
		}
		ct.At = file + ":" + m[1]
	}
	r.rep.Rejected = ct
}

// unparsable runs apache2 -t on what check's parser refused: its
// message is the verdict.
func (a *apacheAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	var ce *lint.ConfigError
	if !errors.As(perr, &ce) {
		return nil, perr
	}
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	a.cfg = &lint.ApacheConfig{}
	files, err := a.files(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into apache", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, "sh", "-c", a.cmd("-t")+" 2>&1")
	if err != nil {
		return nil, &harness.InfraError{Op: "apache2 -t", Err: err}
	}
	if code == 0 {
		return nil, usagef("sniproof cannot parse the configuration: %v (apache2 -t accepts it)", perr)
	}
	a.reject(r, code, out)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; apache2 -t ran on the configuration", perr))
	r.rep.summarise()
	return r.rep, nil
}

// jobs are one request per route to an https:// upstream: its virtual
// host's ServerName and port and a path it serves, or an expectations
// entry's requests, routed as Apache routes them.
func (a *apacheAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	if entries == nil {
		for _, rt := range a.cfg.Routes {
			j := a.job(rt)
			if why := apacheSkip(r, j.targets); why != "" {
				j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked, j.loc.Key = NotChecked, VerdictSkip, why, j.loc.Place
				out = append(out, j)
				continue
			}
			req := a.request(r, rt)
			j.loc.Request, j.loc.Key, j.port = &req, req.String(), req.Port
			out = append(out, j)
		}
		return out
	}
	return entryJobs(entries, a.cfg.Routes, "no route", func(req *Request) (*lint.ApacheRoute, bool, string) {
		rt := a.routeFor(req.Host, req.Port, req.Path)
		if rt == nil {
			return nil, false, fmt.Sprintf("no ProxyPass or RewriteRule to an https:// upstream serves %s%s", req.Host, req.Path)
		}
		def := a.request(r, rt)
		req.Port = cmp.Or(req.Port, def.Port)
		req.Scheme = cmp.Or(req.Scheme, def.Scheme)
		return rt, true, ""
	}, a.job)
}

// apacheSkip says why the backend cannot stand for one of a route's
// upstreams, or "".
func apacheSkip(r *runner, targets []Target) string {
	for _, t := range targets {
		if why := r.skipIP[t.Host]; t.IP && why != "" {
			return fmt.Sprintf("the upstream %s cannot be impersonated: %s", t, why)
		}
	}
	return ""
}

// request is the request check makes up for a route.
func (a *apacheAdapter) request(r *runner, rt *lint.ApacheRoute) Request {
	host := rt.VHost.ServerName
	if host == "" {
		host = "localhost"
	}
	port := rt.VHost.Port
	if ports := a.ports(r); port == 0 && len(ports) > 0 {
		port = ports[0]
	}
	p := rt.RequestPath()
	if rt.Regex {
		if derived, ok := pathFor(rt.Path, false); ok {
			p = derived
		}
	}
	scheme := "http"
	if rt.VHost.SSL {
		scheme = "https"
	}
	return Request{Scheme: scheme, Host: host, Port: port, Path: p, Method: "GET"}
}

// routeFor is the route Apache serves host, port and path with: the
// virtual host on the port naming host (else the port's first), then its
// route with the longest prefix, else its first expression matching.
func (a *apacheAdapter) routeFor(host string, port int, p string) *lint.ApacheRoute {
	host, _ = lint.SplitHost(strings.ToLower(host))
	var vhost *lint.ApacheVHost
	for _, v := range a.cfg.VHosts {
		if port != 0 && v.Port != 0 && v.Port != port {
			continue
		}
		if vhost == nil {
			vhost = v
		}
		if v.ServerName == host || slices.ContainsFunc(v.Aliases, func(al string) bool { return strings.EqualFold(al, host) }) {
			vhost = v
			break
		}
	}
	var best *lint.ApacheRoute
	for _, rt := range a.cfg.Routes {
		if rt.VHost != vhost && rt.VHost != a.cfg.Server {
			continue
		}
		if rt.Regex {
			if re, err := regexp.Compile(rt.Path); err == nil && re.MatchString(p) && best == nil {
				best = rt
			}
			continue
		}
		if strings.HasPrefix(p, rt.Path) && (best == nil || best.Regex || len(rt.Path) > len(best.Path)) {
			best = rt
		}
	}
	return best
}

// job is the job of a route.
func (a *apacheAdapter) job(rt *lint.ApacheRoute) job {
	var targets []Target
	for _, t := range rt.Targets {
		targets = append(targets, apacheTarget(t))
	}
	loc := rt.Location
	at := rt.Node
	if loc != nil {
		at = loc
	}
	place := fmt.Sprintf("%s %s %s", rt.Node.File, rt.VHost.Label(), rt.Label())
	a.routes[place] = rt
	return job{targets: targets, loc: Location{Location: rt.Label(), At: at.Pos(), Server: rt.VHost.Label(),
		Pass: rt.Node.Name + " " + strings.Join(rt.Node.Args, " "), PassAt: rt.Node.Pos(), Place: place}}
}

// own keeps every event: Apache makes no connection of its own.
func (*apacheAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *apacheAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	return diagnoseApache(a.routes[j.loc.Place], obs)
}

// diagnoseApache explains an observation of route rt's request.
func diagnoseApache(rt *lint.ApacheRoute, obs *harness.Observation) diagnosis {
	var d diagnosis
	var t lint.ApacheTarget
	if rt != nil {
		t = rt.Targets[0]
	}
	ipFix := func() string {
		if rt == nil {
			return ""
		}
		// The directive naming the upstream: the route's, or a
		// BalancerMember.
		return strings.TrimSpace(t.At.Name + " " + strings.Replace(strings.Join(t.At.Args, " "), t.URL.Host, "<the upstream's host name>"+apachePort(t), 1))
	}
	ip := rt != nil && apacheTarget(t).IP
	if rt != nil {
		for _, u := range rt.Targets {
			if apacheTarget(u).IP {
				t, ip = u, true
				break
			}
		}
	}
	noEngine := rt != nil && !t.Engine()
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		switch {
		case obs.Status == 421 && rt != nil && rt.HostHeader.At != nil:
			d.Explanation += fmt.Sprintf(": Apache sent the Host %s (RequestHeader at %s) and the client's Host as SNI", rt.HostHeader.Value, rt.HostHeader.At.Pos())
			d.Fix = "drop RequestHeader set Host " + rt.HostHeader.Value
		case obs.Status == 500 && ip && t.CheckPeerName():
			d.Cause = CauseVerify
			d.Explanation = "the handshake completed, but Apache checked the certificate's name against the IP address of the URL (SSLProxyCheckPeerName on, AH02411) and answered 500"
			d.Fix = ipFix()
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause = CauseNoSNI
		d.Explanation = "Apache sent no SNI (the URL's host is an IP address, which mod_ssl never sends), and the upstream refused the handshake" + alertOf(obs)
		d.Fix = ipFix()
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause = CauseWrongName
		d.Explanation = fmt.Sprintf("Apache sent SNI %q, a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), alertOf(obs))
		if rt != nil && rt.Preserves() {
			d.Explanation = fmt.Sprintf("Apache sent the client's Host %q as SNI (ProxyPreserveHost On at %s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), rt.PreserveHost.At.Pos(), alertOf(obs))
			d.Fix = "ProxyPreserveHost Off"
		}
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed && noEngine:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("Apache connected to the upstream but sent no ClientHello: SSLProxyEngine is not on for %s (AH01961), and it answered %s", t.URL.Redacted(), statusText(obs.Status, obs.Error))
		d.Fix = "SSLProxyEngine on"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
		if rt != nil && !strings.EqualFold(t.Setting("sslproxyverify").Value, "none") && t.Setting("sslproxyverify").At != nil {
			d.Cause = CauseVerify
			d.Explanation = fmt.Sprintf("Apache refused the upstream's certificate (SSLProxyVerify %s at %s; the upstream saw %q)", t.Setting("sslproxyverify").Value, t.Setting("sslproxyverify").At.Pos(), obs.Reason)
			d.Fix = "SSLProxyCACertificateFile <the CA bundle that issued the upstream's certificate>"
		}
	default:
		d.Cause, d.Explanation = CauseUnreachable, "no ClientHello reached the upstream"
		if obs.Status > 0 {
			d.Explanation = fmt.Sprintf("Apache answered %s itself: no ClientHello reached the upstream", statusText(obs.Status, obs.Error))
		}
		if noEngine {
			d.Explanation, d.Fix = "no ClientHello reached the upstream: SSLProxyEngine is not on (AH01961)", "SSLProxyEngine on"
		}
		if obs.Status == 504 || strings.Contains(strings.ToLower(obs.Error), "timeout") {
			d.Cause, d.Explanation = CauseTimeout, "the request timed out before any ClientHello reached the upstream"
		}
	}
	return d
}

// apachePort is ":PORT" of a target's URL with one, else "".
func apachePort(t lint.ApacheTarget) string {
	if p := t.URL.Port(); p != "" {
		return ":" + p
	}
	return ""
}

// describe adds the route's directive (or Location section) as written
// and lint's findings on it.
func (a *apacheAdapter) describe(_ *runner, j *job) {
	rt := a.routes[j.loc.Place]
	if rt == nil {
		return
	}
	for _, f := range a.cfg.Findings() {
		if f.File == rt.Node.File && f.Line == rt.Node.Line {
			j.loc.Lint = append(j.loc.Lint, finding(f))
		}
	}
	if rt.Location != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "<%s %s>\n", rt.Location.Name, strings.Join(rt.Location.Args, " "))
		for _, k := range rt.Location.Children {
			fmt.Fprintf(&b, "    %s %s\n", k.Name, strings.Join(k.Args, " "))
		}
		fmt.Fprintf(&b, "</%s>\n", rt.Location.Name)
		j.loc.Config = b.String()
		return
	}
	j.loc.Config = rt.Node.Name + " " + strings.Join(rt.Node.Args, " ") + "\n"
}
