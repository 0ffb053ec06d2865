package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// requests sends the jobs' requests, one at a time, and fills the report's
// locations; describe adds each location's configuration and lint
// findings.
//
// Each location's verdict is its cold outcome: the backend starts cold,
// closing every connection after its response and resuming no TLS
// session, so that no request rides a connection or a session another
// location opened. Then, with the backend warm, the same requests run
// again in the operator's order; a location that behaves otherwise then
// gets a Hazard, with both outcomes and the cause.
func (r *runner) requests(ctx context.Context, jobs []job, describe func(*job)) {
	var checked []*job
	for i := range jobs {
		if jobs[i].loc.Outcome != NotChecked {
			checked = append(checked, &jobs[i])
		}
	}
	for _, j := range checked {
		r.judge(j, r.observe(ctx, j))
	}
	if len(checked) > 1 && ctx.Err() == nil {
		r.warmPass(ctx, checked)
	}
	for i := range jobs {
		describe(&jobs[i])
		r.rep.Locations = append(r.rep.Locations, jobs[i].loc)
	}
	r.noteQueries()
}

// noteQueries says, for each resolver the backend answered as, the names
// the proxy asked it for.
func (r *runner) noteQueries() {
	asked := map[string][]string{}
	var order []string
	for _, b := range r.backends {
		for _, ev := range b.Events(0) {
			if ev.Kind != backend.KindDNS {
				continue
			}
			if _, ok := asked[ev.Local]; !ok {
				order = append(order, ev.Local)
			}
			q := ev.Host + " (" + ev.Reason + ")"
			if !slices.Contains(asked[ev.Local], q) {
				asked[ev.Local] = append(asked[ev.Local], q)
			}
		}
	}
	for _, at := range order {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the resolver %s, answered by the backend, was asked for %s", at, strings.Join(asked[at], ", ")))
	}
}

// warmPass makes the backends warm and sends the checked jobs' requests
// again, in order, recording as a Hazard every location whose status or
// SNI then differs from its cold outcome.
func (r *runner) warmPass(ctx context.Context, checked []*job) {
	for _, b := range r.backends {
		if err := b.SetCold(ctx, false); err != nil {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("no warm pass: %v", err))
			return
		}
	}
	r.say("warm pass: the requests again, connections and TLS sessions kept, in the configuration's order")
	// opened names, by backend connection, the location whose request
	// opened it.
	opened := map[string]*job{}
	for _, j := range checked {
		obs := r.observe(ctx, j)
		var by *job
		if seen := obs.Responses[0].Seen; seen != nil {
			key := fmt.Sprintf("%s/%d", seen.Listener, seen.Conn)
			if by = opened[key]; by == nil {
				opened[key] = j
			}
		}
		if h := hazard(j, obs, by); h != nil {
			j.loc.Hazard = h
			r.say("%s: hazard: %s", j.loc.Location, h.Text)
		}
	}
	r.rep.Notes = append(r.rep.Notes, "verdicts are each location's outcome on new connections and TLS sessions (the backend closed every connection and resumed no session); a warm pass then sent the requests again in the configuration's order, connections and sessions kept: a location that behaved otherwise has a hazard")
}

// job is one location to report, with its request when it is checked.
type job struct {
	loc  Location
	pass *Pass
	node *lint.Node // the location, or the stream server
	port int        // the container port to send to
	// via is the adapter's own record of what the request goes through,
	// when known: an HAProxy backend, a Go proxy route.
	via any
	// targets are the upstream endpoints the request reaches, when known:
	// its events are those at their addresses.
	targets []Target
}

// jobs are the locations to report: with expectations, one per entry and
// one, not checked, per TLS location no entry requests; without, one per
// TLS pass, with the request check makes up for it.
func (r *runner) jobs(entries []Entry) []job {
	var out []job
	if entries == nil {
		for _, ps := range r.plan.Passes {
			out = append(out, r.defaultJob(ps))
		}
		return out
	}
	covered := map[*Pass]bool{}
	for _, e := range entries {
		j := r.entryJob(e)
		if j.pass != nil {
			covered[j.pass] = true
		}
		out = append(out, j)
	}
	for _, ps := range r.plan.Passes {
		if covered[ps] {
			continue
		}
		j := unrequested(r.newJob(ps))
		j.loc.Key = placeKey(ps)
		out = append(out, j)
	}
	return out
}

func (r *runner) newJob(ps *Pass) job {
	j := job{pass: ps, node: ps.Location, targets: ps.Targets}
	if j.node == nil {
		j.node = ps.Server.Node
	}
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
func (r *runner) defaultJob(ps *Pass) job {
	j := r.newJob(ps)
	skip := func(why string) job {
		j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, why
		j.loc.Key = placeKey(ps)
		return j
	}
	if why := r.passSkip(ps); why != "" {
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
		s := r.plan.serverFor(req.Port, req.Host, false)
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
func (r *runner) passSkip(ps *Pass) string {
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
	return r.targetSkip(ps)
}

// targetSkip says why the backend cannot stand for one of the pass's
// upstreams, or "".
func (r *runner) targetSkip(ps *Pass) string {
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
func (r *runner) entryJob(e Entry) job {
	req := e.Request
	exp := e.Expect
	stream := req.Scheme == "tcp"
	r.fillRequest(&req)
	j := job{port: req.Port}
	j.loc = Location{Key: req.String(), Request: &req, Expect: &exp, ExpectSource: e.Source}
	s := r.plan.serverFor(req.Port, req.Host, stream)
	if s == nil {
		j.loc.Location, j.loc.At = "no server", e.Source
		j.loc.Outcome, j.loc.Verdict = NotChecked, VerdictSkip
		j.loc.NotChecked = fmt.Sprintf("no %sserver listens on port %d", map[bool]string{true: "stream "}[stream], req.Port)
		return j
	}
	j.loc.Server = s.Label()
	j.node = s.Node
	if !stream {
		loc := locationFor(s.Node, req.Path)
		if loc == nil {
			j.loc.Location, j.loc.At = "server "+s.Label(), fmt.Sprintf("%s:%d", s.Node.File, s.Node.Open)
		} else {
			j.node = loc
			j.loc.Location, j.loc.At = "location "+strings.Join(loc.Args, " "), fmt.Sprintf("%s:%d", loc.File, loc.Open)
		}
	} else {
		j.loc.Location, j.loc.At = s.Label(), fmt.Sprintf("%s:%d", s.Node.File, s.Node.Open)
	}
	j.loc.Place = fmt.Sprintf("%s %s %s", j.node.File, s.Label(), j.loc.Location)
	for _, ps := range r.plan.Passes {
		if (stream && ps.Server == s && ps.Location == nil) || (!stream && ps.Location != nil && ps.Location == j.node) {
			j.pass, j.targets = ps, ps.Targets
			j.loc.Pass, j.loc.PassAt = ps.Directive(), ps.Node.Pos()
			if why := r.targetSkip(ps); why != "" {
				j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, why
			}
			break
		}
	}
	return j
}

// fillRequest completes an entry's request: the scheme from the listen of
// its port (https for ssl), the port from the scheme or from the ssl
// listen of a server with that name, HTTP/2 where the listen has http2.
func (r *runner) fillRequest(req *Request) {
	if req.Scheme == "tcp" {
		if s := r.plan.serverFor(req.Port, "", true); s != nil {
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
			for _, s := range r.plan.Servers {
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
	if s := r.plan.serverFor(req.Port, req.Host, false); s != nil {
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

// observe sends a job's request and reads what the backend saw from its
// log and what the proxy logged.
func (r *runner) observe(ctx context.Context, j *job) *harness.Observation {
	req := *j.loc.Request
	backendFrom, nginxFrom := r.backendMarks(), r.proxy.Log.Len()
	start := time.Now()
	obs := &harness.Observation{}
	addr, err := r.address(ctx, j.port)
	resp := harness.Response{Host: req.Host}
	if err != nil {
		resp.Error = err.Error()
	} else {
		rctx, cancel := context.WithTimeout(ctx, r.opts.Waits.Request)
		resp.Status, resp.Body, err = send(rctx, addr, req)
		cancel()
		if err != nil {
			resp.Error = err.Error()
		}
	}
	var seen backend.Seen
	if resp.Status != 0 && json.Unmarshal([]byte(resp.Body), &seen) == nil && seen.Conn != 0 {
		resp.Seen = &seen
	}
	obs.Responses = []harness.Response{resp}
	obs.Status, obs.Error = resp.Status, resp.Error
	obs.Events = r.settle(ctx, backendFrom, nginxFrom, resp.Status, resp.Seen)
	obs.Events = r.adapter.own(r, j, r.ownEvents(obs.Events, j, resp.Seen), resp.Seen != nil)
	obs.ProxyLog = r.proxy.Log.Lines(nginxFrom)
	obs.Backend, obs.Reason, obs.SNI = harness.ClassifyEvents(obs.Events)
	for _, ev := range obs.Events {
		if ev.Kind == backend.KindHandshake {
			obs.Connections++
		}
	}
	if resp.Seen != nil {
		name := resp.Seen.SNI
		obs.SNI, obs.Resumed = &name, resp.Seen.Resumed
		if obs.Backend == "untouched" {
			obs.Backend = "served"
		}
	}
	obs.Duration = time.Since(start).Round(time.Millisecond).String()
	return obs
}

// judge fills a job's location from its cold observation: the outcome,
// the diagnosis of a failure, and the differences from its expectation.
func (r *runner) judge(j *job, obs *harness.Observation) {
	req := *j.loc.Request
	l := &j.loc
	l.Observed, l.Status, l.Error, l.SNI = obs, obs.Status, obs.Error, obs.SNI
	d := r.adapter.diagnose(r, j, obs)
	if d.Works {
		l.Outcome = Works
	} else {
		l.Outcome, l.Cause, l.Explanation, l.Fix = Broken, d.Cause, d.Explanation, d.Fix
	}
	l.Verdict = map[bool]string{true: VerdictPass, false: VerdictFail}[d.Works]
	if l.Expect != nil {
		l.Differences = differences(*l.Expect, l)
		l.Verdict = map[bool]string{true: VerdictPass, false: VerdictFail}[len(l.Differences) == 0]
	}
	r.say("%s %s: %s, upstream saw %s", l.Location, req, statusText(l.Status, l.Error), sawText(l.SNI))
}

// differences are every way a location's observation differs from its
// expectation, as sentences.
func differences(e Expect, l *Location) []string {
	var out []string
	if *e.Status != l.Status {
		out = append(out, fmt.Sprintf("status %s want %d", statusText(l.Status, l.Error), *e.Status))
	}
	// "" expects the upstream to see no name: a ClientHello without SNI,
	// or none at all (a server the proxy holds DOWN gets no request).
	if (l.SNI == nil && *e.SNI != "") || (l.SNI != nil && *l.SNI != *e.SNI) {
		out = append(out, fmt.Sprintf("upstream saw %s want %s", sawText(l.SNI), sawText(e.SNI)))
	}
	if e.Cause != "" && e.Cause != l.Cause {
		got := l.Cause
		if got == "" {
			got = "none (it works)"
		}
		out = append(out, fmt.Sprintf("cause %s want %s", got, e.Cause))
	}
	return out
}

// address is where this machine reaches the proxy's port: the door's
// published port.
func (r *runner) address(ctx context.Context, port int) (string, error) {
	if r.door == nil {
		return "", fmt.Errorf("port %d is not published: the proxy listens on no port Docker can publish", port)
	}
	host, err := r.door.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := r.door.MappedPort(ctx, strconv.Itoa(port)+"/tcp")
	if err != nil {
		return "", fmt.Errorf("port %d is not published: %w", port, err)
	}
	return netJoin(host, p.Port()), nil
}

func netJoin(host, port string) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// settle waits until the backend's events of the request just answered
// have arrived, and returns them. Requests run one at a time and nothing
// else talks to the backend, so every event after backendFrom is the
// request's; the wait is for Docker's log stream to deliver them: for an
// answered request until the backend's request event of its connection,
// else, unless nginx answered by itself (a status below 500), until the
// first event or nginx error line; then, unless the upstream answered and
// one backend holds every upstream, until both logs are quiet for
// Waits.Quiet. Each wait is bounded by Waits.Event.
func (r *runner) settle(ctx context.Context, backendFrom []int, nginxFrom int, status int, seen *backend.Seen) []backend.Event {
	w := r.opts.Waits
	deadline := time.Now().Add(w.Event)
	tick := 20 * time.Millisecond
	arrived := func() bool {
		for _, ev := range r.backendEvents(backendFrom) {
			if seen == nil || (ev.Kind == backend.KindRequest && sameConn(ev, seen)) {
				return true
			}
		}
		return seen == nil && r.proxy.Log.Len() > nginxFrom && hasError(r.proxy.Log.Lines(nginxFrom))
	}
	// nginx answered by itself (a redirect, a page): nothing to wait for
	// but the quiet.
	if seen == nil && status > 0 && status < 500 {
		deadline = time.Now()
	}
	for !arrived() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(tick)
	}
	// The upstream answered, and one backend holds every upstream: its
	// log is in the order its events happened, so the request's event
	// comes after every attempt the proxy made before it. Nothing is left
	// to wait for.
	if seen != nil && len(r.backends) == 1 && arrived() {
		return r.backendEvents(backendFrom)
	}
	deadline = time.Now().Add(w.Event)
	nb, nn := slices.Clone(r.backendMarks()), r.proxy.Log.Len()
	quietSince := time.Now()
	for time.Since(quietSince) < w.Quiet && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(tick)
		if b, n := r.backendMarks(), r.proxy.Log.Len(); !slices.Equal(b, nb) || n != nn {
			nb, nn, quietSince = b, n, time.Now()
		}
	}
	return r.backendEvents(backendFrom)
}

// backendMarks are the lengths of the logs of the backend and its
// replicas: where a request's events start.
func (r *runner) backendMarks() []int {
	out := make([]int, len(r.backends))
	for i, b := range r.backends {
		out[i] = b.Log.Len()
	}
	return out
}

// backendEvents are the events of the backend and its replicas since
// marks, in time order.
func (r *runner) backendEvents(marks []int) []backend.Event {
	var out []backend.Event
	for i, b := range r.backends {
		out = append(out, b.Events(marks[i])...)
	}
	if len(r.backends) > 1 {
		slices.SortStableFunc(out, func(a, b backend.Event) int { return a.Time.Compare(b.Time) })
	}
	return out
}

// sameConn reports whether an event is of the connection a response came
// on: the same number on the same listener (replicas number their own).
func sameConn(ev backend.Event, seen *backend.Seen) bool {
	return ev.Conn == seen.Conn && ev.Listener == seen.Listener
}

func hasError(lines []string) bool {
	for _, l := range lines {
		if strings.Contains(l, "[error]") || strings.Contains(l, "[crit]") || strings.Contains(l, "[alert]") {
			return true
		}
	}
	return false
}

// blockText is a block as written in its file, from its '{' line to its
// '}' line; "" when the file cannot be read again.
func (r *runner) blockText(n *lint.Node) string {
	if n == nil || !n.Block {
		return ""
	}
	for _, f := range r.cfg.Tree.Files {
		if f.Name != n.File {
			continue
		}
		data := r.cfg.Tree.Options.MainContent
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
func (r *runner) lintFor(ps *Pass, node *lint.Node) []Finding {
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
	for _, f := range r.cfg.Tree.Findings {
		if at[fmt.Sprintf("%s:%d", f.File, f.Line)] {
			out = append(out, finding(f))
		}
	}
	return out
}

// ownEvents keeps, of the events during a job's request, those that are
// its own: an answered request's are its connection's alone; another
// request's are those that reached the addresses of its upstreams, which
// no other upstream shares (a health check of another backend's server
// is that server's). A job whose upstreams are not known keeps them all.
func (r *runner) ownEvents(events []backend.Event, j *job, seen *backend.Seen) []backend.Event {
	if seen != nil {
		return slices.DeleteFunc(events, func(ev backend.Event) bool { return !sameConn(ev, seen) })
	}
	if len(j.targets) == 0 {
		return events
	}
	dest := map[string]bool{}
	for _, t := range j.targets {
		d := r.destination(t)
		if d == "" {
			return events
		}
		dest[d] = true
	}
	return slices.DeleteFunc(events, func(ev backend.Event) bool { return !dest[ev.Local] })
}

// destination is the address at which the backend takes connections for
// an upstream endpoint, as its events' Local says it: the host name's own
// address, the IP address itself (in the proxy's network namespace for a
// loopback one), or the socket's path; "" for a host name without an
// address of its own.
func (r *runner) destination(t Target) string {
	if t.Socket != "" {
		return t.Socket
	}
	addr, err := netip.ParseAddr(strings.Trim(t.Host, "[]"))
	if err != nil {
		var ok bool
		if addr, ok = r.hostAddr[strings.ToLower(t.Host)]; !ok {
			return ""
		}
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(t.Port)).String()
}
