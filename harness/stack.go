package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

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
	// caPath is where proxies find the run's CA bundle.
	caPath = "/etc/sniproof/ca.pem"
)

// Stack is what the cases of a suite share: a session, the run's CA, and one
// backend container with a listener per personality, reachable on the
// internal network under every personality's names.
//
// The caller must call Close.
type Stack struct {
	Session       *Session
	CA            *certs.Authority
	Backend       *BackendContainer
	BackendIP     string
	Personalities map[string]fixtures.Personality
	Timeouts      Timeouts

	client *http.Client
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
	cfg, aliases, err := st.backendConfig(ps)
	if err != nil {
		return st, err
	}
	img, err := sess.Images.Binary(ctx)
	if err != nil {
		return st, err
	}
	b, err := RunBackend(ctx, img, cfg, network.WithNetwork(aliases, sess.Internal), sess.commonOptions())
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
		leaf, err := st.CA.Leaf(p.Names...)
		if err != nil {
			return nil, nil, fmt.Errorf("personality %s: %w", p.Name, err)
		}
		key, err := leaf.KeyPEM()
		if err != nil {
			return nil, nil, fmt.Errorf("personality %s: %w", p.Name, err)
		}
		cfg.Listeners = append(cfg.Listeners, backend.Listener{
			Name:    p.Name,
			Addr:    fmt.Sprintf(":%d", p.Port),
			Names:   p.Names,
			Refuse:  backend.Refusal(p.Refuse),
			CertPEM: string(leaf.ChainPEM()),
			KeyPEM:  string(key),
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

// Close removes every container and network of the stack's session.
func (st *Stack) Close(ctx context.Context) error {
	if st == nil {
		return nil
	}
	return st.Session.Close(ctx)
}

// Proxy is a running proxy under test as the stack drives it.
type Proxy interface {
	// Name and Version name the proxy under test, e.g. "nginx", "1.22.1".
	Name() string
	Version() string
	// BaseURL is where the host reaches the proxy's case port.
	BaseURL() string
	// Log is the proxy's log; the proxy writes Mark(token) into it when it
	// proxies the mark request for token.
	Log() *LogBook
	Mark(token string) string
}

// Observation is what really happened to one request of a case.
type Observation struct {
	// Status is the client's HTTP status, 0 when there was no response.
	Status int `json:"status"`
	// Error is the client's error when there was no response.
	Error string `json:"error,omitempty"`
	Body  string `json:"body,omitempty"`
	// Backend is what the backend saw: served, refused, failed or untouched.
	Backend string `json:"backend"`
	// Reason is the backend's reason for refusing or failing the handshake.
	Reason string `json:"reason,omitempty"`
	// SNI is the name the backend saw, "" when none was sent, nil when no
	// ClientHello reached it.
	SNI *string `json:"sni"`
	// Events are the backend's events for the case's listener.
	Events []backend.Event `json:"events"`
	// ProxyLog holds the proxy's log lines written during the case.
	ProxyLog []string `json:"proxy_log"`
	Duration string   `json:"duration"`
}

// Exchange sends req through proxy p and observes what the backend listener
// named personality saw and what the proxy logged. Cases run one at a time:
// every line logged between the request and the synchronisation mark belongs
// to the case.
func (st *Stack) Exchange(ctx context.Context, p Proxy, personality string, req fixtures.Request) (Observation, error) {
	proxyFrom, backendFrom := p.Log().Len(), st.Backend.Log.Len()
	start := time.Now()
	var obs Observation
	status, body, err := st.get(ctx, p.BaseURL()+req.Path, req.Method, req.Host)
	if err != nil {
		obs.Error = err.Error()
	}
	obs.Status, obs.Body = status, body
	obs.Duration = time.Since(start).Round(time.Millisecond).String()

	proxyTo, backendTo, err := st.sync(ctx, p, proxyFrom, backendFrom)
	if err != nil {
		obs.ProxyLog = p.Log().Lines(proxyFrom)
		return obs, &InfraError{Op: fmt.Sprintf("synchronise with %s %s", p.Name(), p.Version()),
			Err: fmt.Errorf("%w\n%s's log since the request:\n%s", err, p.Name(), lastLines(strings.Join(obs.ProxyLog, "\n"), 20))}
	}
	obs.ProxyLog = p.Log().Lines(proxyFrom)[:proxyTo-proxyFrom]
	for _, ev := range st.Backend.Events(backendFrom) {
		if ev.Listener == personality && ev.Seq < backendTo {
			obs.Events = append(obs.Events, ev)
		}
	}
	obs.Backend, obs.Reason, obs.SNI = classify(obs.Events)
	return obs, nil
}

// sync sends a mark through the proxy and waits until it appears in the
// proxy's log and the backend's; it returns the proxy's log index of the
// mark and the backend's event sequence number of it.
func (st *Stack) sync(ctx context.Context, p Proxy, proxyFrom, backendFrom int) (int, int64, error) {
	token := fmt.Sprintf("%d-%d", time.Now().UnixNano(), st.marks.Add(1))
	status, body, err := st.get(ctx, p.BaseURL()+MarkPath+token, http.MethodGet, "")
	if err != nil {
		return 0, 0, fmt.Errorf("mark request: %w", err)
	}
	if status != http.StatusOK {
		return 0, 0, fmt.Errorf("mark request: status %d: %.200s", status, body)
	}
	wctx, cancel := context.WithTimeout(ctx, st.Timeouts.Sync)
	defer cancel()
	proxyTo, err := p.Log().WaitFor(wctx, proxyFrom, p.Mark(token))
	if err != nil {
		return 0, 0, err
	}
	if _, err := st.Backend.Log.WaitFor(wctx, backendFrom, MarkPath+token); err != nil {
		return 0, 0, err
	}
	for _, ev := range st.Backend.Events(backendFrom) {
		if ev.Listener == markListener && ev.Path == MarkPath+token {
			return proxyTo, ev.Seq, nil
		}
	}
	return 0, 0, errors.New("mark line is not a backend event")
}

func (st *Stack) get(ctx context.Context, url, method, host string) (int, string, error) {
	rctx, cancel := context.WithTimeout(ctx, st.Timeouts.Request)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, url, nil)
	if err != nil {
		return 0, "", err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := st.client.Do(req)
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
		if sni == nil && ev.Kind != "request" && ev.Reason != "not-tls" {
			name := ev.SNI
			sni = &name
		}
		switch ev.Kind {
		case "refused":
			if outcome != fixtures.BackendRefused && outcome != fixtures.BackendFailed {
				outcome, reason = fixtures.BackendRefused, ev.Reason
			}
		case "failed":
			if outcome != fixtures.BackendRefused && outcome != fixtures.BackendFailed {
				outcome, reason = fixtures.BackendFailed, ev.Reason
			}
		case "handshake", "request":
			if outcome == fixtures.BackendUntouched {
				outcome = fixtures.BackendServed
			}
		}
	}
	return outcome, reason, sni
}

// AlertLines are the proxy log lines at [alert] or [emerg] level, which no
// passing case may produce.
func AlertLines(lines []string) []string {
	var bad []string
	for _, l := range lines {
		if strings.Contains(l, "[alert]") || strings.Contains(l, "[emerg]") {
			bad = append(bad, l)
		}
	}
	return bad
}
