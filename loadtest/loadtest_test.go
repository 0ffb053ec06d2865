package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun runs both phases small and checks every count: no loss, no
// unexpected error, each client on one connection, and the backend's own
// counts in agreement.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Run(ctx, Options{Handshakes: 100, Requests: 2000, Concurrency: 20})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	if !r.OK || r.Failures == nil || len(r.Failures) > 0 {
		t.Errorf("OK = %v, failures %#v, want true and an empty list", r.OK, r.Failures)
	}

	h := r.Handshakes
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"connections", h.Connections, 100},
		{"with SNI", h.WithSNI, 50},
		{"completed", h.Completed, 50},
		{"refused", h.Refused, 50},
		{"unexpected errors", h.Unexpected, 0},
		{"backend handshakes", h.BackendHandshakes, 50},
		{"backend refusals", h.BackendRefusals, 50},
		{"backend failed", h.BackendFailed, 0},
		// A handshake and a request per connection with SNI, a refusal per
		// connection without.
		{"backend events", h.BackendEvents, 150},
	} {
		if c.got != c.want {
			t.Errorf("handshakes: %s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if h.PeakInFlight < 2 || h.PeakInFlight > 100 {
		t.Errorf("handshakes: peak in flight = %d, want 2 to 100", h.PeakInFlight)
	}
	checkLatency(t, "handshakes", h.Latency)

	x := r.Proxy
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"requests", x.Requests, 2000},
		{"clients", x.Clients, 20},
		{"client connections", int(x.ClientConnections), 20},
		{"succeeded", x.Succeeded, 2000},
		{"failed", x.Failed, 0},
		{"backend requests", x.BackendRequests, 2000},
		{"backend events", x.BackendEvents, 2000 + x.UpstreamHandshakes},
	} {
		if c.got != c.want {
			t.Errorf("proxy: %s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if x.UpstreamHandshakes < 1 {
		t.Errorf("proxy: upstream handshakes = %d, want at least 1", x.UpstreamHandshakes)
	}
	checkLatency(t, "proxy", x.Latency)
	if m := x.Memory; m.PeakHeapInuse == 0 || m.PeakHeapInuse > x.HeapBound || m.PeakSys < m.PeakHeapInuse {
		t.Errorf("proxy: memory %+v, bound %d", m, x.HeapBound)
	}
	if x.HeapBound != DefaultHeapBound {
		t.Errorf("proxy: heap bound = %d, want the default %d", x.HeapBound, DefaultHeapBound)
	}

	if !strings.HasSuffix(text.String(), "ok: every check holds\n") {
		t.Errorf("text does not end with the verdict:\n%s", text.String())
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil || back.Proxy.Succeeded != 2000 || !back.OK {
		t.Errorf("JSON round trip: %v, %s", err, data)
	}
}

func checkLatency(t *testing.T, phase string, l Latency) {
	t.Helper()
	if l.P50 <= 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max {
		t.Errorf("%s: latency %+v, want 0 < p50 <= p95 <= p99 <= max", phase, l)
	}
}

// TestRunHeapBound checks that a peak heap above the bound fails the run,
// and that no more clients run than there are requests.
func TestRunHeapBound(t *testing.T) {
	r, err := Run(context.Background(), Options{Handshakes: 2, Requests: 3, Concurrency: 10, HeapBound: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "exceeds the bound of 0.0 MiB") {
		t.Errorf("OK = %v, failures %q, want the heap bound exceeded only", r.OK, r.Failures)
	}
	if r.Proxy.Clients != 3 || r.Proxy.Succeeded != 3 {
		t.Errorf("clients = %d, succeeded = %d, want 3 and 3", r.Proxy.Clients, r.Proxy.Succeeded)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "\nFAIL proxy: peak heap in use") || strings.Contains(text.String(), "ok:") {
		t.Errorf("text lacks the failure, or claims ok:\n%s", text.String())
	}
}

// TestRunStopped checks that a run whose context has ended fails every
// connection and request at once, and says why.
func TestRunStopped(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("told to stop"))
	start := time.Now()
	r, err := Run(ctx, Options{Handshakes: 10, Requests: 50, Concurrency: 5})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a stopped run took %s", d)
	}
	if r.OK || r.Handshakes.Unexpected != 10 || r.Proxy.Failed != 50 || r.Proxy.Succeeded != 0 {
		t.Errorf("OK = %v, unexpected = %d, failed = %d, succeeded = %d; want false, 10, 50, 0",
			r.OK, r.Handshakes.Unexpected, r.Proxy.Failed, r.Proxy.Succeeded)
	}
	if got := strings.Join(r.Failures, "\n"); !strings.Contains(got, "stopped early: told to stop") {
		t.Errorf("failures lack the cause:\n%s", got)
	}
	if len(r.Handshakes.Errors) == 0 || len(r.Handshakes.Errors) > sampleSize {
		t.Errorf("handshake errors %q, want 1 to %d", r.Handshakes.Errors, sampleSize)
	}
}

func TestOptionsValidate(t *testing.T) {
	valid := Options{Handshakes: 2, Requests: 1, Concurrency: 1}
	if err := valid.Validate(); err != nil {
		t.Errorf("%+v: %v", valid, err)
	}
	top := Options{Handshakes: MaxHandshakes, Requests: MaxRequests, Concurrency: MaxConcurrency}
	if err := top.Validate(); err != nil {
		t.Errorf("%+v: %v", top, err)
	}
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{Handshakes: 1, Requests: 1, Concurrency: 1}, "handshakes: got 1, expected 2 to 20000"},
		{Options{Handshakes: MaxHandshakes + 1, Requests: 1, Concurrency: 1}, "handshakes: got 20001, expected 2 to 20000"},
		{Options{Handshakes: 2, Requests: 0, Concurrency: 1}, "requests: got 0, expected 1 to 100000"},
		{Options{Handshakes: 2, Requests: MaxRequests + 1, Concurrency: 1}, "requests: got 100001, expected 1 to 100000"},
		{Options{Handshakes: 2, Requests: 1, Concurrency: -1}, "concurrency: got -1, expected 1 to 2000"},
		{Options{Handshakes: 2, Requests: 1, Concurrency: MaxConcurrency + 1}, "concurrency: got 2001, expected 1 to 2000"},
	} {
		err := tt.opts.Validate()
		if err == nil || err.Error() != tt.want {
			t.Errorf("%+v: got %v, want %q", tt.opts, err, tt.want)
		}
		if _, err := Run(context.Background(), tt.opts); err == nil {
			t.Errorf("Run(%+v) accepted it", tt.opts)
		}
	}
}

// TestCheckOpenFiles checks that counts beyond the open-file limit are
// refused before anything starts.
func TestCheckOpenFiles(t *testing.T) {
	limit, ok := openFilesLimit()
	opts := Options{Handshakes: MaxHandshakes, Requests: 1, Concurrency: 1}
	if !ok || limit >= MaxHandshakes*fdsPerHandshake+fdsSpare {
		t.Skipf("the open-file limit (%d, known %v) allows the largest run", limit, ok)
	}
	err := checkOpenFiles(opts)
	if want := fmt.Sprintf("the limit is %d (ulimit -n)", limit); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error with %q", err, want)
	}
	if err := checkOpenFiles(Options{Handshakes: 2, Requests: 1, Concurrency: 1}); err != nil {
		t.Errorf("the smallest run: %v", err)
	}
}

func TestSummarise(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got, want := summarise(ds), (Latency{P50: 50, P95: 95, P99: 99, Max: 100}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got, want := summarise([]time.Duration{3 * time.Millisecond}), (Latency{3, 3, 3, 3}); got != want {
		t.Errorf("one sample: got %+v, want %+v", got, want)
	}
	if got := summarise(nil); got != (Latency{}) {
		t.Errorf("no sample: got %+v", got)
	}
}

func TestPeakInFlight(t *testing.T) {
	for _, tt := range []struct {
		name        string
		starts, end []time.Duration
		want        int
	}{
		{"none", nil, nil, 0},
		{"all overlap", []time.Duration{0, 1, 2}, []time.Duration{5, 4, 3}, 3},
		{"one after another", []time.Duration{0, 2, 4}, []time.Duration{1, 3, 5}, 1},
		{"touching ends overlap", []time.Duration{0, 1}, []time.Duration{1, 2}, 2},
		{"two waves", []time.Duration{0, 0, 10, 10, 10}, []time.Duration{5, 5, 15, 15, 15}, 3},
	} {
		if got := peakInFlight(tt.starts, tt.end); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestErrorSample(t *testing.T) {
	var s errorSample
	for i := range 20 {
		s.add(fmt.Sprintf("error %d", i%7))
	}
	if s.count != 20 || len(s.texts) != sampleSize || s.texts[0] != "error 0" || s.texts[4] != "error 4" {
		t.Errorf("count %d, texts %q", s.count, s.texts)
	}
}

func TestProcFields(t *testing.T) {
	netstat := "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 17 18\nIpExt: InNoRoutes\nIpExt: 3\n"
	if n, ok := netstatField(netstat, "TcpExt", "ListenOverflows"); !ok || n != 17 {
		t.Errorf("ListenOverflows = %d, %v; want 17, true", n, ok)
	}
	for _, name := range []string{"Missing", "InNoRoutes"} {
		if _, ok := netstatField(netstat, "TcpExt", name); ok {
			t.Errorf("TcpExt %s found", name)
		}
	}
	if n, ok := netstatField(netstat, "IpExt", "InNoRoutes"); !ok || n != 3 {
		t.Errorf("IpExt InNoRoutes = %d, %v; want 3, true", n, ok)
	}

	limits := "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max open files            1024                 524288               files     \n" +
		"Max locked memory         unlimited            unlimited            bytes     \n"
	if n, ok := limitsField(limits, "Max open files"); !ok || n != 1024 {
		t.Errorf("open files = %d, %v; want 1024, true", n, ok)
	}
	if _, ok := limitsField(limits, "Max locked memory"); ok {
		t.Error("unlimited read as a number")
	}

	status := "Name:\tloadtest.test\nVmHWM:\t   20560 kB\nVmRSS:\t   18000 kB\n"
	if got := statusKiB(status, "VmHWM"); got != 20560<<10 {
		t.Errorf("VmHWM = %d, want %d", got, 20560<<10)
	}
	if got := statusKiB(status, "VmSwap"); got != 0 {
		t.Errorf("missing VmSwap = %d, want 0", got)
	}
}

// BenchmarkHandshake times judging one connection to the backend: a
// handshake and a request with SNI, a refused handshake without.
func BenchmarkHandshake(b *testing.B) {
	p, err := newPKI()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := startBackend(p, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	addr := srv.Addr(listenerName).String()
	for _, bc := range []struct{ name, sni string }{{"sni", upstreamName}, {"no-sni", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := p.clientConfig(bc.sni)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						b.Error(err)
						return
					}
					o := judge(context.Background(), c, cfg, time.Now())
					_ = c.Close()
					if o.err != nil {
						b.Error(o.err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkProxyRequest times one request through the proxy to the
// backend, on keep-alive connections.
func BenchmarkProxyRequest(b *testing.B) {
	p, err := newPKI()
	if err != nil {
		b.Fatal(err)
	}
	env, err := startProxy(p, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.close)
	var dials atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		c := newClient(&dials)
		defer c.CloseIdleConnections()
		for pb.Next() {
			if err := env.get(context.Background(), c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
