package check

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/certs"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/redact"
)

// Options configure a check.
type Options struct {
	// Config names the configuration: an nginx.conf, a folder holding
	// one, or a folder of site files; or an haproxy.cfg, or a folder
	// holding one.
	Config string
	// Proxy is the proxy the configuration is for, ProxyNginx or
	// ProxyHAProxy; "" tells it from Config (see ProxyKind).
	Proxy string
	// ConfDir is the folder of the main file in the container; "" means
	// DefaultConfDir.
	ConfDir string
	// Expect names an expectations file (see LoadExpectations), or "".
	Expect string
	// Image is the proxy's image to run; "" means the project's image of
	// the proxy for Release.
	Image string
	// Release is the Debian release of the project's image: bookworm
	// (nginx 1.22, HAProxy 2.6; the default) or trixie (nginx 1.26,
	// HAProxy 3.0).
	Release string
	// Baseline names a previous check's JSON report to compare with, or "".
	Baseline string
	// Roots are folders on this machine that hold the real files of the
	// proxy's host's folders (certbot's /etc/letsencrypt), copied in
	// instead of stand-ins.
	Roots []Root
	// Progress receives a line per step; nil for silence.
	Progress io.Writer
	// Waits bound every wait; the zero value means DefaultWaits.
	Waits Waits
}

// Waits are every wait of a check, in one place.
type Waits struct {
	// Request bounds one request through nginx, answer included.
	Request time.Duration
	// Event bounds the wait, after a response, for the first event of the
	// backend (or the nginx log line) that belongs to it.
	Event time.Duration
	// Quiet is how long the backend's and nginx's logs must stay quiet
	// before a request's events are taken as complete.
	Quiet time.Duration
	// Start bounds nginx's start once nginx -t accepted the configuration.
	Start time.Duration
	// Subnet bounds the wait for a subnet that another sniproof check on
	// the same Docker engine holds (both impersonate the same address).
	Subnet time.Duration
}

// DefaultWaits are the waits of a check.
var DefaultWaits = Waits{Request: 20 * time.Second, Event: 3 * time.Second, Quiet: 300 * time.Millisecond, Start: 10 * time.Second, Subnet: 10 * time.Minute}

// globalDirectives are added with nginx -g to the configuration, which
// stays unchanged: a second error log on the container's stderr, so that
// check reads nginx's messages however the configuration logs.
const globalDirectives = "error_log stderr notice;"

// Run checks the configuration opts names: it runs it unchanged in nginx
// (or HAProxy) against a backend impersonating its upstreams, requests
// every location (or backend) that proxies to a TLS upstream, or every
// request of the expectations file, and reports what each upstream saw.
// Errors are *UsageError for bad input and harness.InfraError for the
// infrastructure; a configuration the proxy rejects is a Report with
// Rejected set.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Waits == (Waits{}) {
		opts.Waits = DefaultWaits
	}
	var entries []Entry
	var err error
	if opts.Expect != "" {
		if entries, err = LoadExpectations(opts.Expect); err != nil {
			return nil, err
		}
	}
	var base *Report
	if opts.Baseline != "" {
		if base, err = LoadReport(opts.Baseline); err != nil {
			return nil, err
		}
	}
	proxy, err := ProxyKind(opts.Proxy, opts.Config)
	if err != nil {
		return nil, err
	}
	a := adapters[proxy]()
	if err := releaseError(a.kind(), opts.Release); err != nil {
		return nil, err
	}
	r := &runner{opts: opts, progress: opts.Progress}
	rep, err := r.check(ctx, a, entries)
	if rep != nil {
		// Reports are published and committed as baselines: no
		// credential of the configuration, its logs or the
		// expectations may reach them.
		*rep = redact.Copy(*rep)
	}
	if err != nil || rep.Rejected != nil {
		return rep, err
	}
	if base != nil {
		rep.Baseline = opts.Baseline
		rep.Changes = Compare(base, rep)
	}
	return rep, nil
}

// newReport is the report of a check of opts.Config by the adapter's
// proxy.
func (r *runner) newReport(folder, main string) *Report {
	k := r.adapter.kind()
	r.rep = &Report{APIVersion: APIVersion, Kind: ReportKind, Proxy: k.Name, Test: testName(k), Config: r.opts.Config, Folder: folder, Main: main,
		Date: time.Now().UTC().Format(time.RFC3339), Expectations: r.opts.Expect, Notes: []string{}, Locations: []Location{}, Lint: []Finding{}}
	return r.rep
}

// open starts the check's session and resolves the proxy's image. The
// returned function ends the session, removing every container and
// network, unless SNIPROOF_KEEP=1 keeps them for debugging.
func (r *runner) open(ctx context.Context, k harness.Kind) (func(), error) {
	sess, err := harness.NewChildSession(ctx, r.progress)
	r.sess = sess
	if sess != nil {
		r.rep.Session = sess.ID
	}
	if err == nil {
		r.rep.Image, err = r.image(ctx, k)
	}
	return func() {
		if os.Getenv("SNIPROOF_KEEP") == "1" && sess != nil {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("SNIPROOF_KEEP=1: the containers and networks of session %s are kept; remove them with: bin/sniproof sweep --session %s", sess.ID, sess.ID))
			r.say("SNIPROOF_KEEP=1: kept the containers of session %s:\n  docker ps --filter label=%s=%s\n  remove them with: bin/sniproof sweep --session %s",
				sess.ID, harness.LabelSession, sess.ID, sess.ID)
			return
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if cerr := sess.Close(cctx); cerr != nil {
			r.say("cleanup: %v", cerr)
		}
	}, err
}

// runner is one check's state.
type runner struct {
	opts Options
	// adapter is the proxy's part of the check.
	adapter adapter
	rep     *Report
	// up are the upstreams the backend impersonates, which the adapter's
	// plan sets.
	up       *Upstreams
	progress io.Writer
	sess     *harness.Session
	ca       *certs.Authority
	// backends are the backend's container and its replicas'.
	backends []*harness.BackendContainer
	proxy    *harness.ProxyHost
	// door publishes the proxy's ports.
	door *harness.Door
	// shared are the folders of unix socket upstreams, which the proxy
	// shares with the backend in its network namespace.
	shared []harness.SharedDir
	// skipIP holds, by IP address, why the backend could not take it.
	skipIP map[string]string
	// hostAddr is the backend's address for each upstream host name.
	hostAddr map[string]netip.Addr
}

func (r *runner) say(format string, args ...any) {
	if r.progress != nil {
		fmt.Fprintf(r.progress, "sniproof check: "+format+"\n", args...)
	}
}

// image resolves the proxy's image: the operator's, or the project's for
// the release asked for.
func (r *runner) image(ctx context.Context, k harness.Kind) (string, error) {
	if img := r.opts.Image; img != "" {
		if _, err := r.sess.Docker.ImageInspect(ctx, img); err == nil {
			return img, nil
		}
		r.say("image %s is not on the Docker engine: pulling it (at most %s)", img, pullTimeout)
		pctx, cancel := context.WithTimeout(ctx, pullTimeout)
		defer cancel()
		res, err := r.sess.Docker.ImagePull(pctx, img, client.ImagePullOptions{})
		if err == nil {
			_, err = io.Copy(io.Discard, res)
			res.Close()
		}
		if _, ierr := r.sess.Docker.ImageInspect(ctx, img); ierr != nil {
			return "", usagef("the image %s is not on the Docker engine and could not be pulled (%v): build or load it first", img, firstLine(err))
		}
		return img, nil
	}
	if k.Image == "" {
		return r.sess.Images.Binary(ctx)
	}
	release := r.opts.Release
	if release == "" {
		release = k.Releases[0]
	}
	recipe, err := harness.LoadRecipe(k.Image, release)
	if err != nil {
		return "", &harness.InfraError{Op: "image of " + k.Name + " from " + release, Err: err}
	}
	return r.sess.Images.Debian(ctx, recipe)
}

// pullTimeout bounds the pull of an image named with --image.
const pullTimeout = 2 * time.Minute

// firstLine is an error's first line, or "no error".
func firstLine(err error) string {
	if err == nil {
		return "no error, but the image is still missing"
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// startNginx starts the nginx container, mapping a missing nginx to a

// hostOptions are the proxy host's options the upstreams need: ::1 on
// its loopback interface when an upstream is there, and a folder shared
// with the backend for each folder of a unix socket upstream.
func (r *runner) hostOptions(ctx context.Context) ([]testcontainers.ContainerCustomizer, error) {
	if r.up == nil {
		return nil, nil
	}
	var opts []testcontainers.ContainerCustomizer
	if slices.ContainsFunc(r.up.Loopback, func(a netip.AddrPort) bool { return a.Addr().Is6() }) {
		opts = append(opts, harness.WithLoopbackIPv6())
	}
	r.shared = nil
	for _, sock := range r.up.Sockets {
		dir := path.Dir(sock)
		if slices.ContainsFunc(r.shared, func(d harness.SharedDir) bool { return d.Dir == dir }) {
			continue
		}
		d, err := r.sess.NewSharedDir(ctx, dir)
		if err != nil {
			return nil, err
		}
		r.shared = append(r.shared, d)
	}
	if len(r.shared) > 0 {
		opts = append(opts, harness.WithSharedDirs(r.shared))
	}
	return opts, nil
}

// surround starts what the started proxy host needs around it: a door
// publishing its ports (the proxy itself has no route out of the run's
// networks), and the backend inside its network namespace for loopback
// upstreams.
func (r *runner) surround(ctx context.Context, ports []int) error {
	if len(ports) > 0 {
		var err error
		if r.door, err = r.sess.RunDoor(ctx, ports); err != nil {
			return err
		}
		r.rep.Containers++
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s is on the run's internal networks only, so that it reaches nothing outside them; a relay publishes its ports %s on 127.0.0.1",
			r.rep.Proxy, joinInts(ports)))
	}
	if len(r.up.Loopback) == 0 && len(r.up.Sockets) == 0 && len(r.resolversAt(nil)) == 0 {
		return nil
	}
	cfg, err := r.loopbackConfig()
	if err != nil {
		return &harness.InfraError{Op: "configure the backend for loopback upstreams", Err: err}
	}
	lo, err := r.sess.RunLoopbackBackend(ctx, cfg, r.proxy, r.shared)
	if lo != nil {
		r.rep.Containers++
	}
	if err != nil {
		return err
	}
	r.backends = append(r.backends, lo)
	var addrs []string
	for _, a := range r.up.Loopback {
		addrs = append(addrs, a.String())
	}
	for _, sock := range r.up.Sockets {
		addrs = append(addrs, "unix:"+sock)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("host-local upstreams (%s) are impersonated by a replica of the backend inside %s's own network namespace (unix sockets in a folder it shares with %s), so that %s reaches them exactly as in production",
		strings.Join(addrs, ", "), r.rep.Proxy, r.rep.Proxy, r.rep.Proxy))
	return nil
}

// startBackend makes the run's CA and starts the backend impersonating
// the upstreams; it returns the networks made for IP upstreams, which the
// proxy must join.
func (r *runner) startBackend(ctx context.Context) ([]*testcontainers.DockerNetwork, error) {
	var err error
	if r.ca, err = certs.NewCA("sniproof check " + r.sess.ID); err != nil {
		return nil, err
	}
	statics, networks, err := r.impersonate(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := r.backendConfig("")
	if err != nil {
		return nil, &harness.InfraError{Op: "configure the backend", Err: err}
	}
	cfg.DNS = r.resolversAt(statics[0])
	if len(r.up.Ports) > 0 {
		r.say("starting the backend: %s on ports %s", strings.Join(r.up.Names, ", "), joinInts(r.up.Ports))
	} else {
		r.say("starting the backend: the configuration has no static TLS upstream")
	}
	main, err := r.sess.RunCheckBackend(ctx, cfg, r.up.Aliases, statics[0])
	if err != nil {
		return nil, err
	}
	r.backends = []*harness.BackendContainer{main}
	r.rep.Containers++
	for i, st := range statics[1:] {
		rcfg, err := r.backendConfig(fmt.Sprintf("#%d", i+1))
		if err != nil {
			return nil, &harness.InfraError{Op: "configure a replica of the backend", Err: err}
		}
		rcfg.DNS = r.resolversAt(st)
		replica, err := r.sess.RunCheckBackend(ctx, rcfg, nil, st)
		if err != nil {
			return nil, err
		}
		r.backends = append(r.backends, replica)
		r.rep.Containers++
	}
	r.rep.Backend.Names, r.rep.Backend.Ports = r.up.Names, r.up.Ports
	if len(r.up.Names) > 0 {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the backend answers as %s on ports %s, refusing a ClientHello without SNI or with another name with alert 80, with a certificate for exactly those names from the run's CA",
			strings.Join(r.up.Names, ", "), joinInts(r.up.Ports)))
	}
	return networks, nil
}

// impersonate creates, for each IP upstream, a network in which the backend
// takes that address, and records those it cannot take. Addresses too close
// to have a subnet each share one: the backend takes the first, and
// replicas of it take the others. It returns the addresses each backend
// container takes (the backend's first, then each replica's) and the
// networks, which the proxy joins.
func (r *runner) impersonate(ctx context.Context) ([][]harness.StaticIP, []*testcontainers.DockerNetwork, error) {
	r.skipIP = map[string]string{}
	statics := [][]harness.StaticIP{nil}
	var routes []route
	if local := os.Getenv("DOCKER_HOST"); local == "" || strings.HasPrefix(local, "unix://") {
		routes = hostRoutes()
	}
	for _, host := range r.up.IPTargets {
		if why := unimpersonable(host); why != "" {
			r.skipIP[host] = why
		}
	}
	skip := func(ip netip.Addr, why string) {
		r.skipIP[ip.String()] = why
		r.rep.Backend.Impersonated = append(r.rep.Backend.Impersonated, Impersonation{IP: ip.String(), Reason: why})
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s cannot be impersonated: %s; its locations are not checked", ip, why))
	}
	var plan []*impersonation
	var close []netip.Addr
	for _, ip := range r.up.IPs {
		if why := unimpersonable(ip.String()); why != "" {
			r.skipIP[ip.String()] = why
			continue
		}
		cs := candidates(ip, r.up.IPs)
		if len(cs) == 0 {
			close = append(close, ip)
			continue
		}
		why := ""
		for _, c := range cs {
			if why = routeClash(c.Prefix, routes); why == "" {
				plan = append(plan, &impersonation{c: c, ips: []netip.Addr{ip}})
				break
			}
		}
		if why != "" {
			skip(ip, why)
		}
	}
	for _, group := range groupBy24(close) {
		c, ips, rest, ok := joinGroup(group, plan)
		why := "no subnet of /29 to /24 holds these addresses with room for a gateway and the proxy"
		if ok {
			why = routeClash(c.Prefix, routes)
		}
		if why == "" {
			plan = append(rest, &impersonation{c: c, ips: ips})
			continue
		}
		for _, ip := range group {
			skip(ip, why)
		}
	}
	if err := r.takeSubnets(ctx, plan); err != nil {
		return nil, nil, err
	}
	var networks []*testcontainers.DockerNetwork
	for _, p := range plan {
		if p.nw == nil {
			for _, ip := range p.ips {
				skip(ip, p.why)
			}
			continue
		}
		networks = append(networks, p.nw)
		for i, ip := range p.ips {
			if i == len(statics) {
				statics = append(statics, nil)
			}
			statics[i] = append(statics[i], harness.StaticIP{Network: p.nw, Addr: ip})
			r.rep.Backend.Impersonated = append(r.rep.Backend.Impersonated, Impersonation{IP: ip.String(), Subnet: p.c.Prefix.String()})
		}
		who := "the backend"
		switch n := len(p.ips) - 1; {
		case n == 1:
			who = "the backend and a replica of it, one address each"
		case n > 1:
			who = fmt.Sprintf("the backend and %d replicas of it, one address each", n)
		}
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s impersonated by %s (an internal network %s, which %s joins)", joinAddrs(p.ips), who, p.c.Prefix, r.rep.Proxy))
	}
	r.hostAddr = map[string]netip.Addr{}
	if len(r.up.Hosts) > 0 {
		// Every upstream host name gets an address of its own on the
		// backend, so that a connection is attributed by where it went.
		var taken []netip.Addr
		taken = append(taken, r.up.IPs...)
		next := hostSubnets(taken, routes)
		for _, host := range r.up.Hosts {
			for try := 0; try < hostSubnetTries; try++ {
				c, ok := next()
				if !ok {
					break
				}
				nw, err := r.sess.NewSubnetNetwork(ctx, c.Prefix, c.Gateway)
				if err != nil {
					continue // taken by another run on this engine
				}
				networks = append(networks, nw)
				addr := c.Gateway.Next()
				statics[0] = append(statics[0], harness.StaticIP{Network: nw, Addr: addr, Aliases: []string{host}})
				r.hostAddr[host] = addr
				break
			}
			if _, ok := r.hostAddr[host]; !ok {
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s has no address of its own (no free subnet of %s): its connections are told apart by time only", host, hostRange))
			}
		}
		if len(r.hostAddr) > 0 {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("each upstream host name has an address of its own on the backend (%s), so that every connection is attributed to the upstream it reached, health checks included", hostAddrs(r.hostAddr)))
		}
	}
	return statics, networks, nil
}

// joinGroup finds the subnet of a group of addresses too close to have a
// subnet each (groupSubnet). Where it overlaps the subnet planned for a
// single address (10.0.0.15's /27 over 10.0.0.20's /29), that address
// joins the group, as two networks cannot overlap, and the subnet is found
// again. It returns the subnet, its addresses and the plan without the
// entries the group took; ok is false, and the plan unchanged, when no
// subnet holds them.
func joinGroup(group []netip.Addr, plan []*impersonation) (c subnet, ips []netip.Addr, rest []*impersonation, ok bool) {
	ips, rest = slices.Clone(group), slices.Clone(plan)
	for {
		if c, ok = groupSubnet(ips); !ok {
			return c, group, plan, false
		}
		n := len(rest)
		rest = slices.DeleteFunc(rest, func(p *impersonation) bool {
			if p.c.Prefix.Overlaps(c.Prefix) {
				ips = append(ips, p.ips...)
				return true
			}
			return false
		})
		if len(rest) == n {
			return c, ips, rest, true
		}
	}
}

// impersonation is a subnet impersonate makes for IP upstreams: the
// backend takes the first address in it, replicas of it the others.
type impersonation struct {
	c   subnet
	ips []netip.Addr
	// nw is its network once made; why says why it is not made.
	nw  *testcontainers.DockerNetwork
	why string
}

// subnetPoll is how often takeSubnets looks again at the networks that
// hold a subnet it waits for.
const subnetPoll = 500 * time.Millisecond

// takeSubnets makes the network of each planned subnet. A subnet that
// another sniproof check on this engine holds is waited for, at most
// Waits.Subnet, since that check removes its networks when it ends; one
// that a network of the engine's own holds is not taken, and says which.
// The networks are made only once no other check holds any of the
// subnets, and if another check took one meanwhile, those made are
// removed and the wait starts again: a check never holds a subnet while it
// waits, so two checks cannot wait for each other.
func (r *runner) takeSubnets(ctx context.Context, plan []*impersonation) error {
	if len(plan) == 0 {
		return nil
	}
	start := time.Now()
	told := false
	for {
		busy, err := r.subnetHolders(ctx, plan)
		if err != nil {
			return err
		}
		if len(busy) == 0 {
			retry, err := r.makeSubnets(ctx, plan)
			if err != nil || !retry {
				if told && err == nil {
					r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the check waited %s for subnets that another sniproof check on this engine held", time.Since(start).Round(time.Second)))
				}
				return err
			}
		} else if !told {
			told = true
			r.say("waiting, at most %s, for %s: another sniproof check on this engine impersonates an address there (if none is running, bin/sniproof sweep --session SESSION removes what an interrupted one left)", r.opts.Waits.Subnet, holderList(busy))
		}
		if time.Since(start) > r.opts.Waits.Subnet {
			held := "a network the engine does not list yet"
			if len(busy) > 0 {
				held = holderList(busy)
			}
			return &harness.InfraError{Op: "impersonate the upstreams' addresses", Err: fmt.Errorf("the subnets are still held after %s, by %s", r.opts.Waits.Subnet, held)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(subnetPoll):
		}
	}
}

// subnetHolders returns the networks of other sniproof checks that hold a
// subnet of plan still to make; a subnet a network of the engine's own
// holds gets its why.
func (r *runner) subnetHolders(ctx context.Context, plan []*impersonation) ([]harness.SubnetHolder, error) {
	var want []netip.Prefix
	for _, p := range plan {
		if p.nw == nil && p.why == "" {
			want = append(want, p.c.Prefix)
		}
	}
	holders, err := r.sess.SubnetHolders(ctx, want)
	if err != nil {
		return nil, err
	}
	var busy []harness.SubnetHolder
	for _, h := range holders {
		if h.Session != "" {
			busy = append(busy, h)
			continue
		}
		for _, p := range plan {
			if p.why == "" && p.c.Prefix.Overlaps(h.Subnet) {
				p.why = h.String() + " holds that subnet"
			}
		}
	}
	return busy, nil
}

// makeSubnets makes the networks of plan. When another sniproof check
// took a subnet since subnetHolders looked, it removes those it made and
// reports retry; any other failure is the subnet's why.
func (r *runner) makeSubnets(ctx context.Context, plan []*impersonation) (retry bool, err error) {
	for _, p := range plan {
		if p.why != "" {
			continue
		}
		nw, err := r.sess.NewSubnetNetwork(ctx, p.c.Prefix, p.c.Gateway)
		if err == nil {
			p.nw = nw
			continue
		}
		busy, herr := r.subnetHolders(ctx, []*impersonation{p})
		if herr != nil {
			return false, herr
		}
		// The engine reserves a subnet before it lists the network
		// that holds it: an overlap nothing lists yet is another
		// check's network in the making.
		if len(busy) == 0 && (p.why != "" || !strings.Contains(err.Error(), "Pool overlaps")) {
			if p.why == "" {
				p.why = err.Error()
			}
			continue
		}
		for _, q := range plan {
			if q.nw != nil {
				if rerr := q.nw.Remove(ctx); rerr != nil {
					return false, &harness.InfraError{Op: "remove network " + q.nw.Name, Err: rerr}
				}
				q.nw = nil
			}
		}
		return true, nil
	}
	return false, nil
}

// holderList names the networks that hold subnets, "network A (10.0.0.0/29)
// of sniproof session S, ...".
func holderList(hs []harness.SubnetHolder) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = h.String()
	}
	return strings.Join(s, ", ")
}

// joinAddrs lists addresses: "10.0.0.5 is", "10.0.0.5 and 10.0.0.6 are".
func joinAddrs(ips []netip.Addr) string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	if len(s) == 1 {
		return s[0] + " is"
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1] + " are"
}

// backendConfig is one TLS listener per upstream port, each serving every
// upstream name with one certificate for them, refusing any other
// ClientHello with alert 80 as the field report's upstream does. A
// replica's listeners are named with its suffix ("port-443#1"), so that
// events tell the containers apart.
func (r *runner) backendConfig(suffix string) (*backend.Config, error) {
	names := r.up.Names
	certNames := names
	if len(certNames) == 0 {
		certNames = []string{"impersonated-upstream.invalid"}
	}
	leaf, err := r.ca.Leaf(certNames...)
	if err != nil {
		return nil, err
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		return nil, err
	}
	control := 9000
	for slices.Contains(r.up.Ports, control) {
		control++
	}
	cfg := &backend.Config{Control: fmt.Sprintf(":%d", control), Cold: true}
	for _, p := range r.up.Ports {
		cfg.Listeners = append(cfg.Listeners, backend.Listener{
			Name: fmt.Sprintf("port-%d%s", p, suffix), Addr: fmt.Sprintf(":%d", p), Names: names,
			Refuse: backend.RefuseAlert80, CertPEM: string(leaf.ChainPEM()), KeyPEM: string(key),
		})
	}
	if len(cfg.Listeners) == 0 {
		cfg.Listeners = []backend.Listener{{Name: "idle", Addr: fmt.Sprintf(":%d", control+1), Plain: true}}
	}
	return cfg, cfg.Validate()
}

// loopbackConfig is the backend's configuration in the proxy's network
// namespace: backendConfig's, with a listener at each loopback upstream
// ("port-4096#lo-127.0.0.1") and each unix socket ("unix:/run/app.sock"),
// its control API on a loopback address that no configuration names, so
// that it takes no port of the proxy's.
func (r *runner) loopbackConfig() (*backend.Config, error) {
	cfg, err := r.backendConfig("#lo")
	if err != nil {
		return nil, err
	}
	tmpl := cfg.Listeners[0]
	_, control, _ := strings.Cut(cfg.Control, ":")
	cfg.Control = "127.255.255.254:" + control
	cfg.Listeners = nil
	for _, a := range r.up.Loopback {
		l := tmpl
		l.Name, l.Addr = fmt.Sprintf("port-%d#lo-%s", a.Port(), a.Addr()), a.String()
		cfg.Listeners = append(cfg.Listeners, l)
	}
	for _, sock := range r.up.Sockets {
		l := tmpl
		l.Name, l.Addr = "unix:"+sock, "unix:"+sock
		cfg.Listeners = append(cfg.Listeners, l)
	}
	if len(cfg.Listeners) == 0 {
		port, _ := strconv.Atoi(control)
		cfg.Listeners = []backend.Listener{{Name: "idle#lo", Addr: "127.255.255.254:" + strconv.Itoa(port+1), Plain: true}}
	}
	cfg.DNS = r.resolversAt(nil)
	return cfg, cfg.Validate()
}

// resolversAt are the resolvers the backend answers as at the addresses
// statics, or, for nil, at loopback addresses (in the proxy's network
// namespace): each answers the upstream host names with their addresses.
func (r *runner) resolversAt(statics []harness.StaticIP) []backend.DNSServer {
	hosts := map[string]string{}
	for h, a := range r.hostAddr {
		hosts[h] = a.String()
	}
	var out []backend.DNSServer
	for _, ap := range r.up.Resolvers {
		taken := ap.Addr().IsLoopback()
		if statics != nil {
			taken = slices.ContainsFunc(statics, func(st harness.StaticIP) bool { return st.Addr == ap.Addr() })
		}
		if taken {
			out = append(out, backend.DNSServer{Addr: ap.String(), Hosts: hosts})
		}
	}
	return out
}

var (
	// nginx -t's messages for a certificate file it cannot open.
	missingCert    = regexp.MustCompile(`cannot load certificate(?: key)? "([^"]+)"`)
	missingVerify  = regexp.MustCompile(`SSL_CTX_load_verify_locations\("([^"]+)"\)`)
	noSuchFile     = regexp.MustCompile(`(?i)no such file`)
	nginxFileLine  = regexp.MustCompile(` in (/[^\s:]+):(\d+)`)
	startedWorkers = "start worker process"
)

func joinInts(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ", ")
}
