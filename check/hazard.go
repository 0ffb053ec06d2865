package check

import (
	"fmt"

	"github.com/sniproof/sniproof/harness"
)

// Hazard is a location's outcome in the warm pass, where connections and
// TLS sessions are kept and the requests run in the configuration's order,
// when it differs from its cold outcome: what the location does depends
// then on what other locations did before it.
type Hazard struct {
	// Status and SNI are the warm outcome, as Location's.
	Status int     `json:"status"`
	SNI    *string `json:"sni"`
	// Reused names the location whose request opened the connection this
	// one rode, "" when it opened its own; Resumed is whether its TLS
	// session was resumed.
	Reused  string `json:"reused,omitempty"`
	Resumed bool   `json:"resumed,omitempty"`
	// Text says it in one sentence, e.g. "200 only on the connection
	// location /billing/ opened (keepalive of upstream billing_pool); cold
	// it sends SNI "billing_pool" and gets 502".
	Text string `json:"text"`
}

// hazard compares a job's warm observation with its cold outcome, already
// in its location: nil when they agree on the status and, where the
// upstream answered both requests, on the SNI it saw. (Where it answered
// neither, what it saw came from other connections, such as health checks,
// whose timing no verdict may depend on.) by is the job whose warm request
// opened the connection this one rode, or nil.
func hazard(j *job, warm *harness.Observation, by *job) *Hazard {
	l := &j.loc
	answered := warm.Responses[0].Seen != nil && l.Observed != nil && l.Observed.Responses[0].Seen != nil
	if warm.Status == l.Status && (!answered || sniText(warm.SNI) == sniText(l.SNI)) {
		return nil
	}
	h := &Hazard{Status: warm.Status, SNI: warm.SNI, Resumed: warm.Resumed}
	var how string
	switch {
	case by != nil && by != j:
		h.Reused = by.loc.Location
		how = fmt.Sprintf("on the connection %s opened%s", by.loc.Location, keepalive(j))
	case warm.Resumed:
		how = "on a TLS session resumed from an earlier connection"
	default:
		how = "after the requests before it"
	}
	cold := fmt.Sprintf("cold it sends %s and gets %s", sawText(l.SNI), statusText(l.Status, l.Error))
	if warm.Status >= 200 && warm.Status < 400 {
		h.Text = fmt.Sprintf("%d only %s; %s", warm.Status, how, cold)
	} else {
		h.Text = fmt.Sprintf("%s %s, with %s; %s", statusText(warm.Status, warm.Error), how, sawText(warm.SNI), cold)
	}
	return h
}

// keepalive names what kept the connection open, from the job's via when
// it knows (nginx's upstream {} block), or "".
func keepalive(j *job) string {
	if k, ok := j.via.(interface{ keepalive() string }); ok {
		return k.keepalive()
	}
	return ""
}
