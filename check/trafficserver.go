package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"regexp/syntax"
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

// ProxyTrafficServer is Apache Traffic Server, Debian's trafficserver.
const ProxyTrafficServer = "trafficserver"

// trafficserverAdapter checks Traffic Server configuration folders
// (Debian's /etc/trafficserver, named by the folder or its remap.config),
// run unchanged by the image's traffic_server: one plain-HTTP request per
// remap rule to an https:// origin, with the Host and path it maps.
type trafficserverAdapter struct {
	// dir is the configuration's folder on this machine.
	dir string
	cfg *lint.TrafficServerConfig
	// files are the folder's files by their path in the container.
	files map[string][]byte
	rules []*lint.TSRule
	// byPlace is each job's rule, by its place.
	byPlace map[string]*lint.TSRule
}

func init() { register(ProxyTrafficServer, func() adapter { return &trafficserverAdapter{} }) }

var trafficserverKind = mustKind(ProxyTrafficServer)

func (*trafficserverAdapter) kind() harness.Kind { return trafficserverKind }

func (*trafficserverAdapter) claims(config string) bool {
	return claimsFile(config, "remap.config", lint.LooksLikeTrafficServer)
}

// tsFolderFiles are the most files of the folder check copies.
const tsFolderFiles = 200

func (a *trafficserverAdapter) load(r *runner) (error, error) {
	file := mainFile(r.opts.Config, "remap.config")
	if err := readable(file); err != nil {
		return nil, err
	}
	a.dir = filepath.Dir(file)
	r.newReport(a.dir, path.Join(lint.TrafficServerConfDir, filepath.Base(file)))
	a.files = map[string][]byte{}
	err := filepath.WalkDir(a.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if len(a.files) >= tsFolderFiles {
			return fmt.Errorf("the folder holds more than %d files", tsFolderFiles)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a.dir, p)
		a.files[path.Join(lint.TrafficServerConfDir, filepath.ToSlash(rel))] = data
		return nil
	})
	if err != nil {
		return nil, usagef("cannot read the configuration folder %s: %v", a.dir, cause(err))
	}
	if base := filepath.Base(file); base != "remap.config" {
		a.files[path.Join(lint.TrafficServerConfDir, "remap.config")] = a.files[path.Join(lint.TrafficServerConfDir, base)]
	}
	cfg, perr := lint.ParseTrafficServerFolder(file)
	if perr != nil {
		return perr, nil
	}
	a.cfg = cfg
	return nil, nil
}

func (a *trafficserverAdapter) plan(r *runner) {
	up := newCollector()
	for _, rule := range a.cfg.Rules {
		if !rule.HTTPS() {
			continue
		}
		a.rules = append(a.rules, rule)
		if t, ok := tsTarget(rule); ok {
			up.target(t)
		}
		if name, _, _ := a.cfg.OutboundSNI(rule); name != "" && !strings.Contains(name, "$") {
			up.names.add(name)
		}
	}
	u, notes := up.upstreams()
	r.up = &u
	r.rep.Notes = append(r.rep.Notes, notes...)
	for _, n := range a.cfg.Notes {
		r.rep.Notes = append(r.rep.Notes, a.relText(n))
	}
	for _, e := range a.cfg.SNI {
		if len(e.Keys) > 0 {
			var keys []string
			for _, k := range slices.Sorted(maps.Keys(e.Keys)) {
				keys = append(keys, k+": "+e.Keys[k].Value)
			}
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s:%d: sni.yaml's entry for %s (%s) applies to the origin connections of TLS clients whose SNI matches it: check's requests to a rule of https:// clients send the rule's host as SNI, its plain-HTTP ones match no entry (client_sni_policy is the sni_policy, verify_server_policy and verify_server_properties the verification of the rules whose TLS clients it matches, unless conf_remap on the rule overrides them)", relTo(a.dir, e.File), e.Line, e.FQDN, strings.Join(keys, ", ")))
		}
	}
	for _, f := range a.findings() {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// relText is a note with the folder's paths made relative to it.
func (a *trafficserverAdapter) relText(s string) string {
	return strings.ReplaceAll(s, a.dir+string(filepath.Separator), "")
}

// findings are lint's, with files named as reports name them.
func (a *trafficserverAdapter) findings() []lint.Finding {
	fs := a.cfg.Findings()
	for i := range fs {
		fs[i].File = relTo(a.dir, fs[i].File)
	}
	return fs
}

// tsTarget is the origin a rule connects to: its host and port (443 by
// default); false for a regex_map substitution ($1), which names no one
// origin.
func tsTarget(rule *lint.TSRule) (Target, bool) {
	if strings.Contains(rule.To.Host, "$") {
		return Target{}, false
	}
	port := 443
	if n, err := strconv.Atoi(rule.To.Port); err == nil {
		port = n
	}
	return Target{Host: rule.To.Host, Port: port, IP: lint.IsIP(rule.To.Host) || strings.Contains(rule.To.Host, ":")}, true
}

// host starts the image idle: Traffic Server starts once its files are in.
func (*trafficserverAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

// tsPort is a port of proxy.config.http.server_ports.
type tsPort struct {
	port     int
	tls, ip6 bool
}

// serverPorts are the ports Traffic Server listens on: server_ports'
// entries (PORT[:ipv6][:ssl]...), the IPv4 ones.
func (a *trafficserverAdapter) serverPorts() []tsPort {
	var out []tsPort
	for _, spec := range strings.FieldsFunc(a.cfg.Setting(nil, lint.TSServerPorts).Value, func(c rune) bool { return c == ' ' || c == ',' }) {
		var p tsPort
		for _, opt := range strings.Split(spec, ":") {
			switch n, err := strconv.Atoi(opt); {
			case err == nil && p.port == 0:
				p.port = n
			case opt == "ssl":
				p.tls = true
			case opt == "ipv6":
				p.ip6 = true
			}
		}
		if p.port > 0 && !p.ip6 {
			out = append(out, p)
		}
	}
	return out
}

func (a *trafficserverAdapter) ports(*runner) []int {
	var out []int
	for _, p := range a.serverPorts() {
		if !slices.Contains(out, p.port) {
			out = append(out, p.port)
		}
	}
	return out
}

// port is the first port Traffic Server serves plain HTTP (tls false)
// or HTTPS on, 0 when none.
func (a *trafficserverAdapter) port(tls bool) int {
	for _, p := range a.serverPorts() {
		if p.tls == tls {
			return p.port
		}
	}
	return 0
}

// tsStartWait is how much longer than other proxies Traffic Server may
// take to listen: it loads its plugins, cache and remap rules first.
const tsStartWait = 30 * time.Second

// launch copies the folder to /etc/trafficserver, the run's CA where
// Traffic Server verifies origins (the CA file a record or rule names,
// else one check names), a throwaway certificate for each one
// ssl_multicert.config names that the folder lacks, and starts
// traffic_server, its diagnostics on stderr.
func (a *trafficserverAdapter) launch(ctx context.Context, r *runner) error {
	files := map[string][]byte{}
	for p, d := range a.files {
		files[p] = d
	}
	env := slices.Clone(tsDiagsEnv)
	if rec := a.cfg.Setting(nil, lint.TSCAFile); rec.File == "" || lint.TSNull(rec.Value) {
		files[tsRunCA] = r.ca.CertPEM()
		env = append(env, "PROXY_CONFIG_SSL_CLIENT_CA_CERT_FILENAME="+tsRunCA)
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("no record names a CA file (%s): check names the run's CA with PROXY_CONFIG_SSL_CLIENT_CA_CERT_FILENAME=%s, so that Traffic Server trusts the backend's certificate as production trusts the upstreams' (Traffic Server 9.2 does not read OpenSSL's default CA file, and the image has no system store)", lint.TSCAFile, tsRunCA))
	}
	for _, ca := range a.caFiles() {
		files[ca.at] = r.ca.CertPEM()
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (%s at %s), so that Traffic Server trusts the backend's certificate", ca.at, ca.rec.Name, relTo(a.dir, ca.rec.File)+":"+strconv.Itoa(ca.rec.Line)))
	}
	if err := a.certStandIns(r, files); err != nil {
		return err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into Traffic Server", Err: err}
	}
	if strings.HasSuffix(a.cfg.RecordsFile, ".yaml") {
		env = append(env, a.recordsEnv()...)
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Traffic Server %s reads records.config, not records.yaml (10.0 on): check gives it records.yaml's records as PROXY_CONFIG_ variables, which override records.config", r.rep.Version))
	}
	script := "mkdir -p /run/trafficserver && chown -R trafficserver: /run/trafficserver /var/log/trafficserver /var/cache/trafficserver 2>/dev/null; " +
		"env " + strings.Join(env, " ") + " traffic_server </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!"
	exited, logged, err := r.startDaemon(ctx, "traffic_server", script, a.ports(r), r.opts.Waits.Start+tsStartWait)
	if err != nil {
		return err
	}
	if exited {
		a.reject(r, 1, strings.Join(logged, "\n"))
		return nil
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Traffic Server runs your configuration unchanged from %s (traffic_server, its diagnostics on stderr, which check reads: %s)", lint.TrafficServerConfDir, strings.Join(tsDiagsEnv, " ")))
	return nil
}

// tsDiagsEnv send Traffic Server's warnings and errors to stderr, where
// check reads them, besides diags.log.
var tsDiagsEnv = []string{"PROXY_CONFIG_DIAGS_OUTPUT_WARNING=EL", "PROXY_CONFIG_DIAGS_OUTPUT_ERROR=EL", "PROXY_CONFIG_DIAGS_OUTPUT_FATAL=EL", "PROXY_CONFIG_DIAGS_OUTPUT_EMERGENCY=EL"}

// recordsEnv are records.yaml's records as the PROXY_CONFIG_ variables
// Traffic Server 9 reads.
func (a *trafficserverAdapter) recordsEnv() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(a.cfg.Records)) {
		v := strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(name, "proxy.config."), ".", "_"))
		out = append(out, harness.ShellQuote("PROXY_CONFIG_"+v+"="+a.cfg.Records[name].Value))
	}
	return out
}

// tsRunCA is where the run's CA stands for the CA.cert.path of a
// configuration that names no CA file.
const tsRunCA = "/etc/sniproof/trafficserver-ca.pem"

// tsCA is a CA file a record names, where Traffic Server opens it.
type tsCA struct {
	at  string
	rec lint.TSRecord
}

// caFiles are the CA files the records and rules name: absolute, or
// relative to /etc/trafficserver.
func (a *trafficserverAdapter) caFiles() []tsCA {
	var out []tsCA
	add := func(rec lint.TSRecord) {
		v := strings.TrimSpace(rec.Value)
		if rec.File == "" || lint.TSNull(v) {
			return
		}
		if !path.IsAbs(v) {
			v = path.Join(lint.TrafficServerConfDir, v)
		}
		if !slices.ContainsFunc(out, func(c tsCA) bool { return c.at == v }) {
			out = append(out, tsCA{at: v, rec: rec})
		}
	}
	add(a.cfg.Setting(nil, lint.TSCAFile))
	for _, rule := range a.rules {
		add(a.cfg.Setting(rule, lint.TSCAFile))
	}
	return out
}

// tsMulticertFile is an ssl_cert_name= or ssl_key_name= of
// ssl_multicert.config.
var tsMulticertFile = regexp.MustCompile(`\bssl_(cert|key)_name=("[^"]*"|\S+)`)

// certStandIns add a throwaway certificate and key for each file
// ssl_multicert.config names that the folder lacks: Traffic Server exits
// when it cannot load one.
func (a *trafficserverAdapter) certStandIns(r *runner, files map[string][]byte) error {
	data := a.files[path.Join(lint.TrafficServerConfDir, "ssl_multicert.config")]
	if data == nil {
		return nil
	}
	dir := strings.TrimSpace(a.cfg.Setting(nil, "proxy.config.ssl.server.cert.path").Value)
	if lint.TSNull(dir) {
		dir = lint.TrafficServerConfDir
	}
	cert, key, err := r.leafPEM("localhost")
	if err != nil {
		return err
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	for _, m := range tsMulticertFile.FindAllStringSubmatch(strings.Join(lines, "\n"), -1) {
		for _, name := range strings.Split(strings.Trim(m[2], `"`), ",") {
			at := name
			if !path.IsAbs(at) {
				at = path.Join(dir, at)
			}
			if _, ok := files[at]; ok || name == "" {
				continue
			}
			files[at] = map[string][]byte{"cert": append(slices.Clone(cert), key...), "key": key}[m[1]]
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s (ssl_%s_name in ssl_multicert.config) is missing: check made a throwaway one there", at, m[1]))
		}
	}
	return nil
}

// tsAt is where Traffic Server's messages name a line of a file.
var tsAt = regexp.MustCompile(`(/etc/trafficserver/[^\s:]+)(?::| line )(\d+)`)

// reject records Traffic Server's refusal, with the operator's file and
// line where its message names one.
func (a *trafficserverAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace("traffic_server exited on the configuration:\n" + out)}
	if m := tsAt.FindStringSubmatch(out); m != nil {
		ct.At = strings.TrimPrefix(m[1], lint.TrafficServerConfDir+"/") + ":" + m[2]
	}
	r.rep.Rejected = ct
}

// unparsable starts Traffic Server on a configuration check's parser
// refused: its exit is the verdict.
func (a *trafficserverAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, a.files); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into Traffic Server", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, "sh", "-c", "mkdir -p /run/trafficserver && chown trafficserver: /run/trafficserver; env "+strings.Join(tsDiagsEnv, " ")+" timeout 20 traffic_server 2>&1")
	if err != nil {
		return nil, &harness.InfraError{Op: "traffic_server", Err: err}
	}
	if code == 124 {
		return nil, usagef("sniproof cannot parse the configuration: %v (traffic_server starts with it)", perr)
	}
	a.reject(r, code, out)
	var ce *lint.ConfigError
	if errors.As(perr, &ce) && ce.Line > 0 {
		r.rep.Rejected.At = fmt.Sprintf("%s:%d", relTo(a.dir, ce.File), ce.Line)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %s; traffic_server ran on the folder", a.relText(perr.Error())))
	r.rep.summarise()
	return r.rep, nil
}

// tsRegexHost is a host a regex_map's host expression matches, the
// shortest one its syntax spells (([a-z0-9-]+)\.cdn\.example gets
// 0.cdn.example); false when it spells none or no host name.
func tsRegexHost(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !spell(&b, re.Simplify()) {
		return "", false
	}
	host := strings.ToLower(b.String())
	m, err := regexp.Compile("(?i)^(?:" + expr + ")$")
	if err != nil || !m.MatchString(host) || host == "" || strings.ContainsAny(host, "/:?# ") || strings.HasPrefix(host, ".") {
		return "", false
	}
	return host, true
}

// tsRequest is the request check makes up for rule: a GET of its path
// with its host (and port) as Host, localhost for a rule of any host;
// why says why none can be made.
func (a *trafficserverAdapter) tsRequest(rule *lint.TSRule) (req Request, why string) {
	host := rule.From.Host
	if strings.HasPrefix(rule.Kind, "regex_") {
		var ok bool
		if host, ok = tsRegexHost(rule.From.Host); !ok {
			return req, fmt.Sprintf("check makes up no host its regular expression %s matches (name one in an expectations file)", rule.From.Host)
		}
	}
	scheme := "http"
	if rule.From.Scheme == "https" {
		scheme = "https"
	}
	port := a.port(scheme == "https")
	if port == 0 {
		return req, fmt.Sprintf("it maps %s:// requests, and Traffic Server serves %s on no port (server_ports %s)", scheme, strings.ToUpper(scheme), a.cfg.Setting(nil, lint.TSServerPorts).Value)
	}
	req = Request{Scheme: scheme, Host: cmp.Or(host, "localhost"), Port: port, Path: rule.From.Path, Method: "GET"}
	if rule.From.Port != "" {
		req.Host += ":" + rule.From.Port
	}
	if strings.HasPrefix(rule.Kind, "regex_") {
		req.Path = "/"
	}
	return req, ""
}

// route is the rule Traffic Server gives a request of scheme: among the
// rules of that scheme and its host (with its port when the rule names
// one), else those of any host, the longest path prefix; nil when it is
// no rule to an https:// origin.
func (a *trafficserverAdapter) route(scheme, host, p string) *lint.TSRule {
	host = strings.ToLower(host)
	name, _ := lint.SplitHost(host)
	var best *lint.TSRule
	pick := func(match func(*lint.TSRule) bool) {
		for _, rule := range a.cfg.Rules {
			if rule.Kind == "reverse_map" || cmp.Or(rule.From.Scheme, "http") != scheme || !match(rule) || !strings.HasPrefix(p, rule.From.Path) {
				continue
			}
			if best == nil || len(rule.From.Path) > len(best.From.Path) {
				best = rule
			}
		}
	}
	pick(func(rule *lint.TSRule) bool {
		if rule.From.Port != "" {
			return rule.From.Host+":"+rule.From.Port == host
		}
		return rule.From.Host != "" && rule.From.Host == name
	})
	if best == nil {
		pick(func(rule *lint.TSRule) bool { return rule.From.Host == "" })
	}
	if best == nil || !best.HTTPS() {
		return nil
	}
	return best
}

// job is rule's job, not checked when the backend cannot stand for its
// origin.
func (a *trafficserverAdapter) job(r *runner, rule *lint.TSRule) job {
	at := relTo(a.dir, rule.File) + ":" + strconv.Itoa(rule.Line)
	name := rule.Kind + " " + rule.From.Raw
	j := job{loc: Location{Location: name, At: at, Pass: rule.To.Raw, PassAt: at, Place: relTo(a.dir, rule.File) + " " + name}}
	if a.byPlace == nil {
		a.byPlace = map[string]*lint.TSRule{}
	}
	a.byPlace[j.loc.Place] = rule
	t, ok := tsTarget(rule)
	switch {
	case !ok:
		j.loc.Outcome, j.loc.Verdict = NotChecked, VerdictSkip
		j.loc.NotChecked = fmt.Sprintf("its origin %s is a regex_map substitution, which names no one upstream check can impersonate", rule.To.Raw)
	case t.IP && r.skipIP[t.Host] != "":
		j.loc.Outcome, j.loc.Verdict = NotChecked, VerdictSkip
		j.loc.NotChecked = fmt.Sprintf("the upstream %s cannot be impersonated: %s", t, r.skipIP[t.Host])
	default:
		j.targets = []Target{t}
	}
	return j
}

// jobs are one request per rule to an https:// origin, with the Host and
// path it maps, or an expectations entry's requests, each to the rule
// Traffic Server gives it.
func (a *trafficserverAdapter) jobs(r *runner, entries []Entry) []job {
	if entries == nil {
		var out []job
		for _, rule := range a.rules {
			j := a.job(r, rule)
			req, why := a.tsRequest(rule)
			switch {
			case why != "" && j.loc.NotChecked == "":
				j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked, j.loc.Key = NotChecked, VerdictSkip, why, j.loc.Place
			case j.loc.NotChecked != "":
				j.loc.Key = j.loc.Place
			default:
				j.loc.Request, j.loc.Key, j.port = &req, req.String(), req.Port
			}
			out = append(out, j)
		}
		return out
	}
	return entryJobs(entries, a.rules, "no rule", func(req *Request) (*lint.TSRule, bool, string) {
		req.Scheme = cmp.Or(req.Scheme, "http")
		req.Port = cmp.Or(req.Port, a.port(req.Scheme == "https"))
		req.Method = cmp.Or(req.Method, "GET")
		req.Path = cmp.Or(req.Path, "/")
		rule := a.route(req.Scheme, req.Host, req.Path)
		return rule, rule != nil, fmt.Sprintf("no remap rule to an https:// origin maps %s%s", req.Host, req.Path)
	}, func(rule *lint.TSRule) job { return a.job(r, rule) })
}

// own keeps every event: Traffic Server makes no connection of its own
// to an origin.
func (*trafficserverAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *trafficserverAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	return diagnoseTrafficServer(a.cfg, a.byPlace[j.loc.Place], obs)
}

// diagnoseTrafficServer explains an observation of rule's request, with
// the records and overrides in effect for it.
func diagnoseTrafficServer(c *lint.TrafficServerConfig, rule *lint.TSRule, obs *harness.Observation) diagnosis {
	var d diagnosis
	policy := c.Setting(rule, lint.TSSNIPolicy)
	_, clientHost, clientSNI := c.OutboundSNI(rule)
	ip := lint.IsIP(rule.To.Host) || strings.Contains(rule.To.Host, ":")
	nameFix := lint.TSOverrideFix(rule, lint.TSSNIPolicy, "@<the upstream's host name>")
	warning := ""
	for _, l := range obs.ProxyLog {
		if strings.Contains(l, "certificate verification failed") || strings.Contains(l, "not in certificate") {
			warning = strings.TrimSpace(l)
			break
		}
	}
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if obs.Status == 421 && c.Pristine(rule) {
			d.Explanation += fmt.Sprintf(": pristine_host_hdr 1 (%s) sent the client's Host, and sni_policy %s the SNI %s", lint.TSSource(c.Setting(rule, lint.TSPristine)), policy.Value, sawText(obs.SNI))
			d.Fix = lint.TSOverrideFix(rule, lint.TSSNIPolicy, "host")
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause = CauseNoSNI
		switch {
		case clientSNI:
			d.Explanation = fmt.Sprintf("Traffic Server sent no SNI: %s server_name (%s) forwards the client's own SNI, and a plain-HTTP client has none; the upstream refused the handshake%s", lint.TSKey(policy), lint.TSSource(policy), alertOf(obs))
			d.Fix = lint.TSPolicyFix(rule, policy, ip)
		case ip:
			d.Explanation = fmt.Sprintf("Traffic Server sent no SNI (the origin %s is an IP address, which it never sends, with %s %s, %s), and the upstream refused the handshake%s", rule.To.Host, lint.TSKey(policy), policy.Value, lint.TSSource(policy), alertOf(obs))
			d.Fix = nameFix
		default:
			d.Explanation = fmt.Sprintf("Traffic Server sent no SNI (%s %s, %s), and the upstream refused the handshake%s", lint.TSKey(policy), policy.Value, lint.TSSource(policy), alertOf(obs))
			d.Fix = nameFix
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause = CauseWrongName
		switch {
		case clientHost:
			d.Explanation = fmt.Sprintf("Traffic Server sent the client's Host %q as SNI (pristine_host_hdr 1, %s, with %s %s, %s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), lint.TSSource(c.Setting(rule, lint.TSPristine)), lint.TSKey(policy), policy.Value, lint.TSSource(policy), alertOf(obs))
			d.Fix = lint.TSPolicyFix(rule, lint.TSRecord{}, ip)
		case clientSNI:
			d.Explanation = fmt.Sprintf("Traffic Server forwarded the client's own SNI %q (%s server_name, %s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), lint.TSKey(policy), lint.TSSource(policy), alertOf(obs))
			d.Fix = lint.TSPolicyFix(rule, policy, ip)
		default:
			d.Explanation = fmt.Sprintf("Traffic Server sent SNI %q (%s %s, %s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), lint.TSKey(policy), policy.Value, lint.TSSource(policy), alertOf(obs))
			d.Fix = nameFix
		}
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed && strings.EqualFold(c.Setting(rule, lint.TSVerifyPolicy).Value, "ENFORCED"):
		d.Cause = CauseVerify
		d.Explanation = fmt.Sprintf("Traffic Server refused the upstream's certificate (verify.server.policy ENFORCED, %s; the upstream saw %q)", lint.TSSource(c.Setting(rule, lint.TSVerifyPolicy)), obs.Reason)
		if warning != "" {
			d.Explanation += ": " + warning
		}
		d.Fix = lint.TSOverrideFix(rule, lint.TSCAFile, "<the CA bundle that issued the upstream's certificate>")
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
	default:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		d.Cause, d.Explanation = CauseUnreachable, "no ClientHello reached the upstream"
	}
	return d
}

// tsDecisive are the records that decide a rule's SNI and verification,
// shown with its configuration.
var tsDecisive = []string{lint.TSSNIPolicy, lint.TSPristine, lint.TSVerifyPolicy, lint.TSVerifyProps, lint.TSCAFile}

func (a *trafficserverAdapter) describe(_ *runner, j *job) {
	rule := a.byPlace[j.loc.Place]
	if rule == nil {
		return
	}
	for _, f := range a.cfg.RuleFindings(rule) {
		f.File = relTo(a.dir, f.File)
		j.loc.Lint = append(j.loc.Lint, finding(f))
	}
	var b strings.Builder
	b.WriteString(rule.Text() + "\n")
	for _, name := range tsDecisive {
		rec := a.cfg.Setting(rule, name)
		if rec.Value == "" {
			continue
		}
		fmt.Fprintf(&b, "# %s %s (%s)\n", name, rec.Value, lint.TSSource(rec))
	}
	j.loc.Config = b.String()
}
