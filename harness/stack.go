package harness

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"golang.org/x/net/http2"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/certs"
	"github.com/sniproof/sniproof/fixtures"
)

const (
	// markListener is the backend's plain-HTTP listener that answers the
	// harness's synchronisation marks.
	markListener = "mark"
	markPort     = 8000
	// controlPort is the backend's control API, for people debugging a
	// kept container; the harness reads events from the backend's log.
	controlPort = 9000
	// MarkPath prefixes the path of every synchronisation mark.
	MarkPath = "/__sniproof/mark/"
	// PushPath prefixes the path of every push (Kind.Pushes).
	PushPath = "/__sniproof/push/"
	// caPath is where proxies find the run's CA bundle, otherCAPath an
	// unrelated CA's.
	caPath      = "/etc/sniproof/ca.pem"
	otherCAPath = "/etc/sniproof/other-ca.pem"
)

// Stack is what the cases of a suite share: a session, the run's CA, and one
// backend container with a listener per personality, reachable on the
// internal network under every personality's names.
//
// The caller must call Close.
type Stack struct {
	Session *Session
	// CA is the run's CA, which issued every backend certificate; OtherCA
	// issued none, for cases that trust the wrong CA.
	CA            *certs.Authority
	OtherCA       *certs.Authority
	Backend       *BackendContainer
	BackendIP     string
	Personalities map[string]fixtures.Personality
	Timeouts      Timeouts

	starts atomic.Int64 // containers started
	client *http.Client // HTTP/1.1
	h2c    *http.Client // HTTP/2 in cleartext, with prior knowledge
	marks  atomic.Int64
}

// StartStack creates the session, the CA and the backend.
func StartStack(ctx context.Context, progress io.Writer) (*Stack, error) {
	ps, err := fixtures.Personalities()
	if err != nil {
		return nil, err
	}
	sess, err := NewSession(ctx, progress)
	st := &Stack{
		Session:       sess,
		Personalities: map[string]fixtures.Personality{},
		Timeouts:      DefaultTimeouts,
		client: &http.Client{
			Timeout:       DefaultTimeouts.Request,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		h2c: &http.Client{
			Timeout: DefaultTimeouts.Request,
			Transport: &http2.Transport{
				AllowHTTP: true,
				DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, addr)
				},
			},
		},
	}
	if err != nil {
		return st, err
	}
	for _, p := range ps {
		st.Personalities[p.Name] = p
	}
	if st.CA, err = certs.NewCA("sniproof run " + sess.ID); err != nil {
		return st, err
	}
	if st.OtherCA, err = certs.NewCA("sniproof unrelated CA " + sess.ID); err != nil {
		return st, err
	}
	cfg, aliases, err := st.backendConfig(ps)
	if err != nil {
		return st, err
	}
	img, err := sess.Images.Binary(ctx)
	if err != nil {
		return st, err
	}
	b, err := RunBackend(ctx, img, cfg, network.WithNetwork(aliases, sess.Internal), sess.commonOptions())
	st.starts.Add(1)
	st.Backend = b
	if err != nil {
		return st, &InfraError{Op: "start backend", Err: err}
	}
	if st.BackendIP, err = containerIP(ctx, b.DockerContainer, sess.Internal.Name); err != nil {
		return st, &InfraError{Op: "start backend", Err: err}
	}
	return st, nil
}

func (st *Stack) backendConfig(ps []fixtures.Personality) (*backend.Config, []string, error) {
	cfg := &backend.Config{Control: fmt.Sprintf(":%d", controlPort), Listeners: []backend.Listener{{Name: markListener, Addr: fmt.Sprintf(":%d", markPort), Plain: true}}}
	var aliases []string
	for _, p := range ps {
		issuer := st.CA
		for i := 1; i <= p.Intermediates; i++ {
			var err error
			if issuer, err = issuer.Intermediate(fmt.Sprintf("sniproof %s intermediate %d", p.Name, i)); err != nil {
				return nil, nil, fmt.Errorf("personality %s: %w", p.Name, err)
			}
		}
		certNames := p.Names
		if len(p.CertNames) > 0 {
			certNames = p.CertNames
		}
		leaf, err := issuer.Leaf(certNames...)
		if err != nil {
			return nil, nil, fmt.Errorf("personality %s: %w", p.Name, err)
		}
		key, err := leaf.KeyPEM()
		if err != nil {
			return nil, nil, fmt.Errorf("personality %s: %w", p.Name, err)
		}
		cfg.Listeners = append(cfg.Listeners, backend.Listener{
			Name:       p.Name,
			Addr:       fmt.Sprintf(":%d", p.Port),
			Plain:      p.Plain,
			Names:      p.Names,
			Refuse:     backend.Refusal(p.Refuse),
			Lenient:    p.Lenient,
			HangAll:    p.HangAll,
			StrictHost: p.StrictHost,
			MinVersion: p.MinVersion,
			CertPEM:    string(leaf.ChainPEM()),
			KeyPEM:     string(key),
		})
		aliases = append(aliases, p.Names...)
	}
	return cfg, aliases, cfg.Validate()
}

func containerIP(ctx context.Context, c *testcontainers.DockerContainer, networkName string) (string, error) {
	info, err := c.Inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("inspect container: %w", err)
	}
	ep, ok := info.NetworkSettings.Networks[networkName]
	if !ok || !ep.IPAddress.IsValid() {
		return "", fmt.Errorf("container %.12s has no address on network %s", c.GetContainerID(), networkName)
	}
	return ep.IPAddress.String(), nil
}

// ContainerStarts counts the containers the stack started.
func (st *Stack) ContainerStarts() int {
	if st == nil {
		return 0
	}
	return int(st.starts.Load())
}

// Close removes every container and network of the stack's session.
func (st *Stack) Close(ctx context.Context) error {
	if st == nil {
		return nil
	}
	return st.Session.Close(ctx)
}

// Response is what the client got for one request.
type Response struct {
	Host string `json:"host"`
	// Status is the HTTP status, 0 when there was no response.
	Status int `json:"status"`
	// Error is the client's error when there was no response.
	Error string `json:"error,omitempty"`
	Body  string `json:"body,omitempty"`
	// Seen is the backend's report in the body, when the backend answered.
	Seen *backend.Seen `json:"seen,omitempty"`
}

// ConfigTest is the outcome of a proxy's own configuration test.
type ConfigTest struct {
	Exit   int    `json:"exit"`
	Output string `json:"output"`
}

// Observation is what really happened in a case.
type Observation struct {
	// Responses are the client's, one per request; Status and Error are
	// the last one's.
	Responses []Response `json:"responses"`
	Status    int        `json:"status"`
	Error     string     `json:"error,omitempty"`
	// Backend is what the backend saw: served, refused, failed or untouched.
	Backend string `json:"backend"`
	// Reason is the backend's reason for refusing or failing the handshake.
	Reason string `json:"reason,omitempty"`
	// SNI is the name the backend saw: on the connection that served the
	// last request, else in the first ClientHello; "" when none was sent,
	// nil when no ClientHello reached it.
	SNI *string `json:"sni"`
	// Connections counts the TLS handshakes the backend completed.
	Connections int `json:"connections"`
	// Resumed is whether the last request's TLS session was resumed.
	Resumed bool `json:"resumed"`
	// Events are the backend's events for the case's listener.
	Events []backend.Event `json:"events"`
	// ProxyLog holds the proxy's log lines written during the case.
	ProxyLog []string `json:"proxy_log"`
	// ConfigTest is the proxy's configuration test, for cases whose
	// configuration the proxy must refuse.
	ConfigTest *ConfigTest `json:"config_test,omitempty"`
	Duration   string      `json:"duration"`
}

// Exchange sends req through proxy p and observes what the backend listener
// named personality saw and what the proxy logged. Cases run one at a time:
// every line logged between the request and the synchronisation mark belongs
// to the case, but the lines of the previous case's pushes.
func (st *Stack) Exchange(ctx context.Context, p *Proxy, c fixtures.Case) (Observation, error) {
	// A stopped container would make every request of the case wait for
	// timeouts: say so at once.
	switch {
	case st.Backend.Log.Ended():
		return Observation{}, &InfraError{Op: "exchange", Err: fmt.Errorf("the backend container stopped: %w", ErrStopped)}
	case p.Log().Ended():
		return Observation{}, &InfraError{Op: "exchange", Err: fmt.Errorf("%s %s's container stopped: %w", p.Name(), p.Version(), ErrStopped)}
	}
	proxyFrom, backendFrom := p.Log().Len(), st.Backend.Log.Len()
	start := time.Now()
	var obs Observation
	base, h2c := p.Endpoint(c.ID)
	client := st.client
	if h2c {
		client = st.h2c
	}
	for _, req := range c.Requests() {
		r := Response{Host: req.Host}
		var err error
		r.Status, r.Body, err = st.do(ctx, client, base+req.Path, req.Method, req.Host)
		if err != nil {
			r.Error = err.Error()
		}
		var seen backend.Seen
		if r.Status != 0 && json.Unmarshal([]byte(r.Body), &seen) == nil && seen.Conn != 0 {
			r.Seen = &seen
		}
		obs.Responses = append(obs.Responses, r)
		obs.Status, obs.Error = r.Status, r.Error
	}
	obs.Duration = time.Since(start).Round(time.Millisecond).String()

	proxyTo, mark, err := st.sync(ctx, p, proxyFrom, backendFrom)
	if err != nil {
		obs.ProxyLog = withoutPushes(p.Log().Lines(proxyFrom))
		return obs, &InfraError{Op: fmt.Sprintf("synchronise with %s %s", p.Name(), p.Version()),
			Err: fmt.Errorf("%w\n%s's log since the request:\n%s", err, p.Name(), lastLines(strings.Join(obs.ProxyLog, "\n"), 20))}
	}
	obs.ProxyLog = withoutPushes(p.Log().Lines(proxyFrom)[:proxyTo-proxyFrom])
	obs.Events = st.caseEvents(ctx, backendFrom, mark, c.Personality)
	obs.Backend, obs.Reason, obs.SNI = classify(obs.Events)
	for _, ev := range obs.Events {
		if ev.Kind == backend.KindHandshake {
			obs.Connections++
		}
	}
	if last := obs.Responses[len(obs.Responses)-1]; last.Seen != nil {
		name := last.Seen.SNI
		obs.SNI, obs.Resumed = &name, last.Seen.Resumed
	}
	return obs, nil
}

// caseEvents are the events of the case's listener logged before the mark,
// and the final events of the handshakes that were still under way on that
// listener when the mark arrived (a proxy may answer its client before the
// backend has read the alert that ends a handshake). Those are waited for
// within Timeouts.Sync; a handshake that never ends is simply not there.
// Only the connections of the mark's peer, the proxy's container, count:
// proxies running their cases at the same time never take each other's
// events (the backend counts pending handshakes by peer too).
func (st *Stack) caseEvents(ctx context.Context, from int, mark backend.Event, listener string) []backend.Event {
	var events []backend.Event
	late := mark.Pending[listener]
	peer := peerHost(mark.Remote)
	deadline := time.Now().Add(st.Timeouts.Sync)
	for {
		events = events[:0]
		settled := 0
		for _, ev := range st.Backend.Events(from) {
			if ev.Listener != listener || peerHost(ev.Remote) != peer {
				continue
			}
			if ev.Seq < mark.Seq {
				events = append(events, ev)
			} else if settled < late && ev.Kind != backend.KindRequest {
				events = append(events, ev)
				settled++
			}
		}
		if settled >= late || time.Now().After(deadline) {
			return events
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		_, _ = st.Backend.Log.WaitFor(wctx, st.Backend.Log.Len(), `"listener":"`+listener+`"`)
		cancel()
	}
}

// peerHost is an address without its port.
func peerHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// sync sends a mark through the proxy, then the kind's pushes, and waits
// until the mark appears in the proxy's log and the backend's; it returns
// the proxy's log index of the mark and the backend's event of it.
func (st *Stack) sync(ctx context.Context, p *Proxy, proxyFrom, backendFrom int) (int, backend.Event, error) {
	token := fmt.Sprintf("%d-%d", time.Now().UnixNano(), st.marks.Add(1))
	for i, path := range append([]string{MarkPath + token}, p.Kind.Pushes...) {
		what := "mark request"
		if i > 0 {
			what = fmt.Sprintf("push %d", i)
		}
		status, body, err := st.do(ctx, st.client, p.BaseURL()+path, http.MethodGet, "")
		if err != nil {
			return 0, backend.Event{}, fmt.Errorf("%s: %w", what, err)
		}
		if status != http.StatusOK {
			return 0, backend.Event{}, fmt.Errorf("%s: status %d: %.200s", what, status, body)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, st.Timeouts.Sync)
	defer cancel()
	proxyTo, err := p.Log().WaitFor(wctx, proxyFrom, p.Kind.Mark(token))
	if err != nil {
		return 0, backend.Event{}, err
	}
	if _, err := st.Backend.Log.WaitFor(wctx, backendFrom, MarkPath+token); err != nil {
		return 0, backend.Event{}, err
	}
	for _, ev := range st.Backend.Events(backendFrom) {
		if ev.Listener == markListener && ev.Path == MarkPath+token {
			return proxyTo, ev, nil
		}
	}
	return 0, backend.Event{}, errors.New("mark line is not a backend event")
}

// withoutPushes are the log lines but those of pushes, which a buffered log
// writes in the next case's time.
func withoutPushes(lines []string) []string {
	kept := make([]string, 0, len(lines))
	for _, l := range lines {
		if !strings.Contains(l, PushPath) {
			kept = append(kept, l)
		}
	}
	return kept
}

func (st *Stack) do(ctx context.Context, client *http.Client, url, method, host string) (int, string, error) {
	rctx, cancel := context.WithTimeout(ctx, st.Timeouts.Request)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, url, nil)
	if err != nil {
		return 0, "", err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(data), err
}

// classify sums up a case's backend events: the first refused or failed
// handshake decides, else any completed one; the SNI is the first one seen.
func classify(events []backend.Event) (outcome, reason string, sni *string) {
	outcome = fixtures.BackendUntouched
	for _, ev := range events {
		if sni == nil && ev.Kind != backend.KindRequest && ev.Reason != backend.ReasonNotTLS {
			name := ev.SNI
			sni = &name
		}
		switch ev.Kind {
		case backend.KindRefused:
			if outcome != fixtures.BackendRefused && outcome != fixtures.BackendFailed {
				outcome, reason = fixtures.BackendRefused, ev.Reason
			}
		case backend.KindFailed:
			if outcome != fixtures.BackendRefused && outcome != fixtures.BackendFailed {
				outcome, reason = fixtures.BackendFailed, ev.Reason
			}
		case backend.KindHandshake, backend.KindRequest:
			if outcome == fixtures.BackendUntouched {
				outcome = fixtures.BackendServed
			}
		}
	}
	return outcome, reason, sni
}

// AlertLines are the proxy log lines at [alert] or [emerg] level (any
// letter case: HAProxy writes [ALERT]), which no passing case may produce.
func AlertLines(lines []string) []string {
	var bad []string
	for _, l := range lines {
		if lower := strings.ToLower(l); strings.Contains(lower, "[alert]") || strings.Contains(lower, "[emerg]") {
			bad = append(bad, l)
		}
	}
	return bad
}
