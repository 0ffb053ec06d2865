package check

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// This file is the rest of nginx's adapter (nginx.go): its jobs, from the
// plan's passes or the expectations' requests; the configuration copied
// in with stand-ins for what it names and the run lacks, tested and
// started; and what a location's report shows of its block.

// jobs are the locations to report: with expectations, one per entry and
// one, not checked, per TLS location no entry requests; without, one per
// TLS pass, with the request check makes up for it.
func (a *nginxAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	if entries == nil {
		for _, ps := range a.p.Passes {
			out = append(out, a.defaultJob(r, ps))
		}
		return out
	}
	covered := map[*Pass]bool{}
	for _, e := range entries {
		j := a.entryJob(r, e)
		if ps := passOf(&j); ps != nil {
			covered[ps] = true
		}
		out = append(out, j)
	}
	for _, ps := range a.p.Passes {
		if covered[ps] {
			continue
		}
		j := unrequested(a.newJob(r, ps))
		j.loc.Key = placeKey(ps)
		out = append(out, j)
	}
	return out
}

func (a *nginxAdapter) newJob(r *runner, ps *Pass) job {
	block := ps.Location
	if block == nil {
		block = ps.Server.Node
	}
	j := job{via: nginxVia{pass: ps, block: block}, targets: ps.Targets}
	j.loc = Location{Location: ps.Describe(), At: ps.At(), Server: ps.Server.Label(), Pass: ps.Directive(), PassAt: ps.Node.Pos(), Place: placeKey(ps)}
	return j
}

// placeKey identifies a location that no request reaches by its place,
// without line numbers, which edits move: its file, server and location.
func placeKey(ps *Pass) string {
	return fmt.Sprintf("%s %s %s", ps.Node.File, ps.Server.Label(), ps.Describe())
}

// defaultJob makes up the request for a TLS pass: a GET of the location's
// path, with the Host (and SNI) of the server's first name, on the
// server's first ssl listen port, else its first; or why it cannot.
func (a *nginxAdapter) defaultJob(r *runner, ps *Pass) job {
	j := a.newJob(r, ps)
	skip := func(why string) job {
		j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, why
		j.loc.Key = placeKey(ps)
		return j
	}
	if why := a.passSkip(r, ps); why != "" {
		return skip(why)
	}
	l, ok := pickListen(ps.Server)
	if !ok {
		return skip("its server has no listen port that Docker can publish (only addresses such as 127.0.0.1, [::] or unix sockets)")
	}
	req := Request{Method: "GET", Host: ps.Server.Host(), Port: l.Port, Path: "/"}
	switch {
	case ps.Stream:
		req.Scheme, req.TLS, req.Host = "tcp", l.SSL, ps.Server.Host()
	case l.SSL:
		req.Scheme = "https"
	default:
		req.Scheme = "http"
	}
	req.HTTP2 = !ps.Stream && l.HTTP2
	if ps.Location != nil {
		mod, p := locationArgs(ps.Location)
		switch mod {
		case "", "=", "^~":
			req.Path = p
		case "~", "~*":
			derived, ok := pathFor(p, mod == "~*")
			if !ok || locationFor(ps.Server.Node, derived) != ps.Location {
				return skip(fmt.Sprintf("location %s is a regular expression check derives no path for that nginx routes there: name a request for it in an expectations file (--expect)", strings.Join(ps.Location.Args, " ")))
			}
			req.Path = derived
		default:
			return skip(fmt.Sprintf("location %s is a named location, which no request reaches directly: name a request for the location that passes to it in an expectations file (--expect)", strings.Join(ps.Location.Args, " ")))
		}
		if !strings.HasPrefix(req.Path, "/") {
			return skip(fmt.Sprintf("location %s does not start with /", req.Path))
		}
		s := a.p.serverFor(req.Port, req.Host, false)
		if s != ps.Server {
			return skip(fmt.Sprintf("a request for %s on port %d goes to another server (%s): name one in an expectations file", req.Host, req.Port, s.Node.Pos()))
		}
		if got := locationFor(s.Node, req.Path); got != ps.Location {
			where := "no location"
			if got != nil {
				where = fmt.Sprintf("location %s at %s:%d", strings.Join(got.Args, " "), got.File, got.Open)
			}
			return skip(fmt.Sprintf("a request for %s goes to %s instead: name one for this location in an expectations file (--expect)", req.Path, where))
		}
	}
	j.port = req.Port
	j.loc.Request = &req
	j.loc.Key = req.String()
	return j
}

// passSkip says why a pass cannot be requested without an expectations
// entry, or "".
func (a *nginxAdapter) passSkip(r *runner, ps *Pass) string {
	switch {
	case ps.Unresolved != "" && ps.Resolved != "":
		return ps.Unresolved
	case ps.Unresolved != "" && ps.SchemeUnknown:
		return fmt.Sprintf("%s takes its whole URL, scheme included, from a variable at run time, and %s: name a request for it in an expectations file (--expect)", ps.Directive(), ps.Unresolved)
	case ps.Unresolved != "" && ps.Dynamic:
		return fmt.Sprintf("%s has variables, and %s: name a request for it in an expectations file (--expect)", ps.Directive(), ps.Unresolved)
	case ps.Unix && len(ps.Targets) == 0:
		return fmt.Sprintf("%s names no absolute socket path check can take", ps.Directive())
	}
	return a.targetSkip(r, ps)
}

// targetSkip says why the backend cannot stand for one of the pass's
// upstreams, or "".
func (a *nginxAdapter) targetSkip(r *runner, ps *Pass) string {
	for _, t := range ps.Targets {
		if t.IP {
			if why := r.skipIP[t.Host]; why != "" {
				return fmt.Sprintf("the upstream %s cannot be impersonated: %s", t, why)
			}
		}
	}
	return ""
}

// pickListen is the listen a made-up request goes to: the first reachable
// ssl one, else the first reachable one.
func pickListen(s *Server) (Listen, bool) {
	for _, l := range s.Listens {
		if l.Reachable && l.SSL && !s.Stream {
			return l, true
		}
	}
	for _, l := range s.Listens {
		if l.Reachable {
			return l, true
		}
	}
	return Listen{}, false
}

// entryJob matches an expectations entry to its server and location.
func (a *nginxAdapter) entryJob(r *runner, e Entry) job {
	req := e.Request
	exp := e.Expect
	stream := req.Scheme == "tcp"
	a.fillRequest(r, &req)
	j := job{port: req.Port}
	j.loc = Location{Key: req.String(), Request: &req, Expect: &exp, ExpectSource: e.Source}
	s := a.p.serverFor(req.Port, req.Host, stream)
	if s == nil {
		j.loc.Location, j.loc.At = "no server", e.Source
		j.loc.Outcome, j.loc.Verdict = NotChecked, VerdictSkip
		j.loc.NotChecked = fmt.Sprintf("no %sserver listens on port %d", map[bool]string{true: "stream "}[stream], req.Port)
		return j
	}
	j.loc.Server = s.Label()
	v := nginxVia{block: s.Node}
	if !stream {
		loc := locationFor(s.Node, req.Path)
		if loc == nil {
			j.loc.Location, j.loc.At = "server "+s.Label(), fmt.Sprintf("%s:%d", s.Node.File, s.Node.Open)
		} else {
			v.block = loc
			j.loc.Location, j.loc.At = "location "+strings.Join(loc.Args, " "), fmt.Sprintf("%s:%d", loc.File, loc.Open)
		}
	} else {
		j.loc.Location, j.loc.At = s.Label(), fmt.Sprintf("%s:%d", s.Node.File, s.Node.Open)
	}
	j.loc.Place = fmt.Sprintf("%s %s %s", v.block.File, s.Label(), j.loc.Location)
	for _, ps := range a.p.Passes {
		if (stream && ps.Server == s && ps.Location == nil) || (!stream && ps.Location != nil && ps.Location == v.block) {
			v.pass, j.targets = ps, ps.Targets
			j.loc.Pass, j.loc.PassAt = ps.Directive(), ps.Node.Pos()
			if why := a.targetSkip(r, ps); why != "" {
				j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, why
			}
			break
		}
	}
	j.via = v
	return j
}

// fillRequest completes an entry's request: the scheme from the listen of
// its port (https for ssl), the port from the scheme or from the ssl
// listen of a server with that name, HTTP/2 where the listen has http2.
func (a *nginxAdapter) fillRequest(r *runner, req *Request) {
	if req.Scheme == "tcp" {
		if s := a.p.serverFor(req.Port, "", true); s != nil {
			for _, l := range s.Listens {
				if l.Port == req.Port {
					req.TLS = l.SSL
				}
			}
		}
		return
	}
	if req.Port == 0 {
		switch req.Scheme {
		case "http":
			req.Port = 80
		case "https":
			req.Port = 443
		default:
			// The port of a server with that name: an ssl one first, as
			// a browser would land there.
			req.Scheme, req.Port = "http", 80
			found := false
			for _, s := range a.p.Servers {
				if s.Stream || !slices.ContainsFunc(s.Names, func(n string) bool { return strings.EqualFold(n, req.Host) }) {
					continue
				}
				if l, ok := pickListen(s); ok && (!found || l.SSL && req.Scheme == "http") {
					req.Port, found = l.Port, true
					if l.SSL {
						req.Scheme = "https"
					}
				}
			}
		}
	}
	if s := a.p.serverFor(req.Port, req.Host, false); s != nil {
		for _, l := range s.Listens {
			if l.Port == req.Port {
				if req.Scheme == "" {
					req.Scheme = map[bool]string{true: "https", false: "http"}[l.SSL]
				}
				req.HTTP2 = l.HTTP2
			}
		}
	}
	if req.Scheme == "" {
		req.Scheme = "http"
	}
}

// blockText is a block as written in its file, from its '{' line to its
// '}' line; "" when the file cannot be read again.
func (a *nginxAdapter) blockText(r *runner, n *lint.Node) string {
	if n == nil || !n.Block {
		return ""
	}
	for _, f := range a.cfg.Tree.Files {
		if f.Name != n.File {
			continue
		}
		data := a.cfg.Tree.Options.MainContent
		if f.Host != "" {
			var err error
			if data, err = os.ReadFile(f.Host); err != nil {
				return ""
			}
		}
		lines := strings.Split(string(data), "\n")
		if n.Open < 1 || n.Line > len(lines) || n.Open > n.Line {
			return ""
		}
		return strings.Join(lines[n.Open-1:n.Line], "\n") + "\n"
	}
	return ""
}

// lintFor are lint's findings at the directives in effect for a location
// (or stream server): those inside it, and those of the blocks around it.
func (a *nginxAdapter) lintFor(r *runner, ps *Pass, node *lint.Node) []Finding {
	if node == nil {
		return nil
	}
	at := map[string]bool{}
	node.Walk(func(n *lint.Node) { at[n.Pos()] = true })
	at[node.Pos()] = true
	for b := node.Parent; b != nil; b = b.Parent {
		for _, c := range b.Children {
			if !c.Block {
				at[c.Pos()] = true
			}
		}
	}
	if ps != nil {
		at[ps.Node.Pos()] = true
	}
	var out []Finding
	for _, f := range a.cfg.Tree.Findings {
		if at[fmt.Sprintf("%s:%d", f.File, f.Line)] {
			out = append(out, finding(f))
		}
	}
	return out
}

// launch copies the configuration into nginx (the run's CA at every
// trusted certificate), tests it and starts it; a configuration nginx
// refuses sets Rejected.
func (a *nginxAdapter) launch(ctx context.Context, r *runner) error {
	files, err := a.p.Files()
	if err != nil {
		return err
	}
	for _, n := range a.p.Trusted {
		p := a.cfg.Tree.ContainerPath(n.Arg(0))
		if _, ok := files[p]; ok || strings.Contains(p, "$") {
			continue
		}
		files[p] = r.ca.CertPEM()
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (%s at %s), so that nginx trusts the backend's certificate", p, n.Name, n.Pos()))
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into nginx", Err: err}
	}
	a.removeLeftovers(r, ctx)
	if done, err := a.test(r, ctx); done || err != nil {
		return err
	}
	return a.startNginx(r, ctx)
}

// removeLeftovers removes, from each folder that an include pattern lists
// and that the operator's folder provides, the image's own files the
// operator's folder does not have (Debian's sites-enabled/default).
func (a *nginxAdapter) removeLeftovers(r *runner, ctx context.Context) {
	for dir, bases := range a.p.Leftovers() {
		code, out, err := r.proxy.Run(ctx, "ls", "-A", dir)
		if err != nil || code != 0 {
			continue
		}
		own := a.p.hostFiles(dir)
		for _, name := range strings.Fields(out) {
			if own[name] || !matchesAny(bases, name) {
				continue
			}
			p := path.Join(dir, name)
			if code, _, err := r.proxy.Run(ctx, "rm", "-f", p); err == nil && code == 0 {
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("removed the image's %s, which your folder does not have, so that the include of %s reads your files alone", p, path.Join(dir, bases[0])))
			} else {
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the image's %s, which your folder does not have, is included too (it could not be removed)", p))
			}
		}
	}
}

func matchesAny(patterns []string, name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// test runs nginx -t until it accepts the configuration, replacing each
// certificate file it finds missing with a throwaway one. It returns done
// when nginx refuses the configuration for another reason, with Rejected
// set to nginx's own message.
func (a *nginxAdapter) test(r *runner, ctx context.Context) (bool, error) {
	main := a.cfg.Main()
	made := map[string]bool{}
	for {
		code, out, err := r.proxy.Run(ctx, nginxTest(main)...)
		if err != nil {
			return true, &harness.InfraError{Op: "nginx -t", Err: err}
		}
		if code == 0 {
			return false, nil
		}
		missing := ""
		if m := missingCert.FindStringSubmatch(out); m != nil && noSuchFile.MatchString(out) {
			missing = m[1]
		} else if m := missingVerify.FindStringSubmatch(out); m != nil && noSuchFile.MatchString(out) {
			missing = m[1]
		}
		files, note, ok := a.standIn(r, out)
		if !ok && missing != "" && !made[missing] {
			var err error
			if files, note, ok, err = a.throwaway(r, missing); err != nil {
				return true, err
			}
		}
		if !ok || madeAll(made, files) {
			a.reject(r, code, out)
			return true, nil
		}
		for p := range files {
			made[p] = true
		}
		if err := r.proxy.CopyFiles(ctx, files); err != nil {
			return true, &harness.InfraError{Op: "copy a throwaway certificate into nginx", Err: err}
		}
		r.rep.Notes = append(r.rep.Notes, note)
	}
}

// madeAll reports whether every file was made before: a stand-in that
// did not satisfy nginx.
func madeAll(made map[string]bool, files map[string][]byte) bool {
	for p := range files {
		if !made[p] {
			return false
		}
	}
	return true
}

// reject records nginx's refusal, with the operator's file and line.
func (a *nginxAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	if m := nginxFileLine.FindStringSubmatch(out); m != nil {
		for _, f := range a.cfg.Tree.Files {
			if f.Container == m[1] {
				ct.At = f.Name + ":" + m[2]
			}
		}
	}
	r.rep.Rejected = ct
}

// throwaway makes the certificate files a directive names at the missing
// container path p: a certificate for its server's names and its key (both
// of the pair), or the run's CA for a trusted or client CA file.
func (a *nginxAdapter) throwaway(r *runner, p string) (map[string][]byte, string, bool, error) {
	t := a.cfg.Tree
	var n *lint.Node
	for _, c := range a.p.Certs {
		if t.ContainerPath(c.Arg(0)) == p {
			n = c
			break
		}
	}
	if n == nil {
		return nil, "", false, nil
	}
	if n.Name == "ssl_trusted_certificate" || n.Name == "ssl_client_certificate" {
		return map[string][]byte{p: r.ca.CertPEM()}, fmt.Sprintf("%s %s (%s) is missing: the run's CA was written there", n.Name, n.Arg(0), n.Pos()), true, nil
	}
	certName := strings.TrimSuffix(n.Name, "_key")
	certNode, keyNode := n.Parent.Lookup(certName), n.Parent.Lookup(certName+"_key")
	if certNode == nil || keyNode == nil {
		return nil, "", false, nil
	}
	names := []string{}
	if s := n.Enclosing("server"); s != nil {
		for _, c := range s.Children {
			if c.Name != "server_name" {
				continue
			}
			for _, a := range c.Args {
				if a != "" && a != "_" && !strings.HasPrefix(a, "~") && !strings.Contains(a, "$") {
					names = append(names, strings.TrimPrefix(a, "."))
				}
			}
		}
	}
	if len(names) == 0 {
		names = []string{"localhost"}
	}
	cert, key, err := r.leafPEM(names...)
	if err != nil {
		return nil, "", false, err
	}
	certPath, keyPath := t.ContainerPath(certNode.Arg(0)), t.ContainerPath(keyNode.Arg(0))
	files := map[string][]byte{certPath: cert, keyPath: key}
	if certPath == keyPath {
		files[certPath] = append(cert, key...)
	}
	note := fmt.Sprintf("%s %s (%s) is missing: check made a throwaway certificate for %s there, and its key at %s",
		certNode.Name, certNode.Arg(0), certNode.Pos(), strings.Join(names, ", "), keyPath)
	return files, note, true, nil
}

// startNginx starts nginx with the configuration, unchanged but for the
// error log on stderr that -g adds, and waits until its workers run.
func (a *nginxAdapter) startNginx(r *runner, ctx context.Context) error {
	from := r.proxy.Log.Len()
	cmd := fmt.Sprintf("exec nginx -c %s -g %s </dev/null >/proc/1/fd/1 2>/proc/1/fd/2", harness.ShellQuote(a.cfg.Main()), harness.ShellQuote(globalDirectives))
	if !a.p.Daemon {
		cmd = strings.TrimPrefix(cmd, "exec ") + " &"
	}
	code, out, err := r.proxy.Run(ctx, "sh", "-c", cmd)
	if err != nil {
		return &harness.InfraError{Op: "start nginx", Err: err}
	}
	if code != 0 {
		lines := strings.Join(r.proxy.Log.Lines(from), "\n")
		a.reject(r, code, strings.TrimSpace("nginx -t accepted the configuration, but nginx did not start:\n"+out+"\n"+lines))
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, r.opts.Waits.Start)
	defer cancel()
	if _, err := r.proxy.Log.WaitFor(wctx, from, startedWorkers); err != nil {
		r.say("nginx logged no %q within %s; going on", startedWorkers, r.opts.Waits.Start)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("nginx runs your configuration unchanged (nginx -c %s), with -g '%s' added so that check reads its messages", a.cfg.Main(), globalDirectives))
	return nil
}

// unparsable handles a configuration check's parser cannot read: nginx -t
// runs on a copy of the whole folder, and its message is the verdict.
func (a *nginxAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	t := a.cfg.Tree
	files, err := folderFiles(t.Options.HostDir, t.Options.ConfDir)
	if err != nil {
		return nil, err
	}
	if t.Options.MainContent != nil {
		files[a.cfg.Main()] = t.Options.MainContent
	}
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into nginx", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, nginxTest(a.cfg.Main())...)
	if err != nil {
		return nil, &harness.InfraError{Op: "nginx -t", Err: err}
	}
	if code == 0 {
		return nil, usagef("sniproof cannot parse the configuration: %v (nginx -t accepts it)", perr)
	}
	a.reject(r, code, out)
	if r.rep.Rejected.At == "" {
		if m := nginxFileLine.FindStringSubmatch(out); m != nil {
			if rel, ok := strings.CutPrefix(m[1], t.Options.ConfDir+"/"); ok {
				r.rep.Rejected.At = rel + ":" + m[2]
			}
		}
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; nginx -t ran on a copy of the whole folder %s", perr, t.Options.HostDir))
	r.rep.summarise()
	return r.rep, nil
}

// folderFiles reads every regular file under dir (hidden ones skipped, at
// most 2000 files and 32 MiB), by its path under confDir.
func folderFiles(dir, confDir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	total := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		if len(out) >= 2000 || total+int(st.Size()) > 32<<20 {
			return fmt.Errorf("the folder %s is too big to copy whole (over 2000 files or 32 MiB)", dir)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out[path.Join(confDir, filepath.ToSlash(rel))] = data
		total += len(data)
		return nil
	})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return out, nil
}

// standIn is what check puts at a path nginx -t reports missing, when the
// directive naming it is an include or an ssl_dhparam: an empty file for
// an include (certbot's options-ssl-nginx.conf, outside the folder), the
// standard group for a dhparam; ok is false for anything else.
func (a *nginxAdapter) standIn(r *runner, out string) (files map[string][]byte, note string, ok bool) {
	t := a.cfg.Tree
	if m := missingOpen.FindStringSubmatch(out); m != nil {
		at, text := a.lineAt(r, m[2], m[3])
		if !strings.HasPrefix(text, "include") {
			return nil, "", false
		}
		return map[string][]byte{m[1]: fmt.Appendf(nil, "# sniproof check: an empty stand-in for %s, which the run lacks\n", m[1])},
			fmt.Sprintf("include %s (%s) is not in the folder nor in the image: check put an empty stand-in there (name the real folder with --root %s=DIR)", m[1], at, path.Dir(m[1])), true
	}
	if m := missingBIO.FindStringSubmatch(out); m != nil && noSuchFile.MatchString(out) {
		var dh *lint.Node
		t.Root.Walk(func(n *lint.Node) {
			if n.Name == "ssl_dhparam" && t.ContainerPath(n.Arg(0)) == m[1] {
				dh = n
			}
		})
		if dh == nil {
			return nil, "", false
		}
		return map[string][]byte{m[1]: []byte(ffdhe2048)},
			fmt.Sprintf("ssl_dhparam %s (%s) is missing: check put the standard group ffdhe2048 of RFC 7919 there, as certbot's ssl-dhparams.pem holds", dh.Arg(0), dh.Pos()), true
	}
	return nil, "", false
}

// lineAt is the operator's FILE:LINE of a container file's line, as
// nginx's messages name it, and the line's text, trimmed.
func (a *nginxAdapter) lineAt(r *runner, file, line string) (string, string) {
	for _, f := range a.cfg.Tree.Files {
		if f.Container != file {
			continue
		}
		data := a.cfg.Tree.Options.MainContent
		if f.Host != "" {
			var err error
			if data, err = os.ReadFile(f.Host); err != nil {
				return f.Name + ":" + line, ""
			}
		}
		lines := strings.Split(string(data), "\n")
		n, err := strconv.Atoi(line)
		if err != nil || n < 1 || n > len(lines) {
			return f.Name + ":" + line, ""
		}
		return f.Name + ":" + line, strings.TrimSpace(lines[n-1])
	}
	return file + ":" + line, ""
}

// nginxVia is what an nginx job's request goes through: the pass it
// reaches, if any, and the block it is in (its location, or the stream
// server).
type nginxVia struct {
	pass  *Pass
	block *lint.Node
}

// viaOf is an nginx job's via; the zero nginxVia for a job that reaches no
// server.
func viaOf(j *job) nginxVia {
	v, _ := j.via.(nginxVia)
	return v
}

// passOf is the pass a job reaches, or nil.
func passOf(j *job) *Pass { return viaOf(j).pass }

// keepalive names the upstream {} block whose keepalive kept a
// connection open, " (keepalive of upstream NAME)", or "".
func (v nginxVia) keepalive() string {
	if v.pass != nil && v.pass.Upstream != nil {
		return fmt.Sprintf(" (keepalive of upstream %s)", v.pass.Upstream.Arg(0))
	}
	return ""
}
