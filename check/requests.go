package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/harness"
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
	port int // the container port to send to
	// via is the adapter's own record of what the request goes through,
	// when known: an nginx pass, an HAProxy backend, a Go proxy route.
	via any
	// targets are the upstream endpoints the request reaches, when known:
	// its events are those at their addresses.
	targets []Target
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
