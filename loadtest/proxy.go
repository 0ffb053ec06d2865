package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/proxy"
)

// ProxyResult is the outcome of the proxy phase.
type ProxyResult struct {
	Requests int `json:"requests"`
	// Clients is the number of concurrent HTTP/1.1 keep-alive clients,
	// each with one connection at a time.
	Clients int `json:"clients"`
	// ClientConnections is the number of connections the clients opened
	// to the proxy: Clients while keep-alive holds.
	ClientConnections int64 `json:"client_connections"`
	// Succeeded counts the requests answered 200 with the backend's JSON
	// showing SNI upstreamName; Failed counts the others, and Errors holds
	// the first few distinct errors.
	Succeeded int      `json:"succeeded"`
	Failed    int      `json:"failed"`
	Errors    []string `json:"errors,omitempty"`
	// WallSeconds runs from the start of the clients to the last answer;
	// PerSecond is Succeeded over it.
	WallSeconds float64 `json:"wall_s"`
	PerSecond   float64 `json:"requests_per_s"`
	// Latency is that of the requests that succeeded, from sending to the
	// end of the body.
	Latency Latency `json:"latency"`
	// UpstreamHandshakes is the number of TLS handshakes the proxy made
	// with the backend; UpstreamALPN the protocol they negotiated.
	UpstreamHandshakes int    `json:"upstream_handshakes"`
	UpstreamALPN       string `json:"upstream_alpn"`
	// BackendRequests is the number of requests the backend answered:
	// Requests, unless the proxy retried some.
	BackendRequests int `json:"backend_requests"`
	// BackendEvents is the number of events the backend kept in memory.
	BackendEvents int    `json:"backend_events"`
	Memory        Memory `json:"memory"`
	// HeapBound is the bound on Memory.PeakHeapInuse, in bytes.
	HeapBound uint64 `json:"heap_bound_bytes"`
}

// failures lists the checks of r that do not hold.
func (r *ProxyResult) failures() []string {
	var out []string
	if r.Succeeded != r.Requests {
		out = append(out, fmt.Sprintf("proxy: %d of %d requests failed or were lost", r.Requests-r.Succeeded, r.Requests))
	}
	if r.Memory.PeakHeapInuse > r.HeapBound {
		out = append(out, fmt.Sprintf("proxy: peak heap in use %s exceeds the bound of %s",
			mebibytes(r.Memory.PeakHeapInuse), mebibytes(r.HeapBound)))
	}
	return out
}

// shutdownTimeout bounds the proxy's shutdown at the end of the phase.
const shutdownTimeout = 5 * time.Second

// proxyPath is the path of every request of the proxy phase.
const proxyPath = "/load"

// runProxy runs the proxy phase: requests requests from clients
// concurrent clients, the peak heap bounded by bound.
func runProxy(ctx context.Context, p *pki, requests, clients int, bound uint64) (ProxyResult, error) {
	res := ProxyResult{Requests: requests, Clients: clients, HeapBound: bound}
	env, err := startProxy(p, 2*requests+2*clients+16)
	if err != nil {
		return res, err
	}
	defer env.close()
	mem := startSampler()

	var (
		next      atomic.Int64
		dials     atomic.Int64
		errs      errorSample
		latencies = make([][]time.Duration, clients)
		wg        sync.WaitGroup
	)
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			c := newClient(&dials)
			defer c.CloseIdleConnections()
			for next.Add(1) <= int64(requests) {
				t := time.Now()
				if err := env.get(ctx, c); err != nil {
					errs.add(err.Error())
					continue
				}
				latencies[w] = append(latencies[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	res.Memory = mem.stop()

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	res.Succeeded, res.Failed, res.Errors = len(all), errs.count, errs.texts
	res.Latency = summarise(all)
	res.ClientConnections = dials.Load()
	res.WallSeconds = wall.Seconds()
	res.PerSecond = perSecond(res.Succeeded, wall)
	events := env.backend.Events("", 0)
	res.BackendEvents = len(events)
	for _, e := range events {
		switch e.Kind {
		case backend.KindHandshake:
			res.UpstreamHandshakes++
			res.UpstreamALPN = e.ALPN
		case backend.KindRequest:
			res.BackendRequests++
		}
	}
	return res, nil
}

// proxyEnv is a backend and the Go proxy in front of it, on loopback.
type proxyEnv struct {
	backend *backend.Server
	proxy   *proxy.Server
	dir     string // holds the CA bundle the proxy verifies with
	url     string // of every request
}

// startProxy starts a backend and a proxy whose one route sends every
// host to https://upstreamName:PORT, dialled on the backend's loopback
// address, with SNI auto and the run's CA verified; the backend keeps up
// to keep events.
func startProxy(p *pki, keep int) (_ *proxyEnv, err error) {
	env := &proxyEnv{}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if env.dir, err = os.MkdirTemp("", "sniproof-load-"); err != nil {
		return nil, fmt.Errorf("make temporary folder: %w", err)
	}
	caFile := filepath.Join(env.dir, "ca.pem")
	if err := os.WriteFile(caFile, p.caPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write CA bundle: %w", err)
	}
	if env.backend, err = startBackend(p, keep); err != nil {
		return nil, err
	}
	addr := env.backend.Addr(listenerName).(*net.TCPAddr)
	px, err := proxy.New(&proxy.Config{
		HTTP: "127.0.0.1:0",
		Routes: []proxy.Route{{
			Host:     "*",
			Upstream: "https://" + net.JoinHostPort(upstreamName, strconv.Itoa(addr.Port)),
			Dial:     addr.String(),
			SNI:      "auto",
			Verify:   caFile,
		}},
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("make proxy: %w", err)
	}
	if err := px.Start(); err != nil {
		return nil, fmt.Errorf("cannot listen on loopback: %w", err)
	}
	env.proxy = px
	env.url = "http://" + px.HTTPAddr().String() + proxyPath
	return env, nil
}

// close stops what env started and removes its folder. Errors are
// dropped: the requests are all answered or failed by then, and a proxy
// that had to cut one short has already failed it at its client.
func (env *proxyEnv) close() {
	if env.proxy != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = env.proxy.Shutdown(ctx)
	}
	if env.backend != nil {
		_ = env.backend.Close()
	}
	if env.dir != "" {
		_ = os.RemoveAll(env.dir)
	}
}

// newClient is an HTTP/1.1 keep-alive client with one connection at a
// time, counting its dials in dials. It ignores the HTTP_PROXY family of
// variables.
func newClient(dials *atomic.Int64) *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}}
}

// get sends one request through the proxy with c and checks the answer.
func (env *proxyEnv) get(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.url, nil)
	if err != nil {
		return fmt.Errorf("make request: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return checkAnswer(resp)
}
