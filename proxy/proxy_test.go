package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/certs"
)

// upstreamName is the name the backend serves, standing for the field
// report's www.xx.com.
const upstreamName = "www.xx.test"

// pki holds the test certificates: the backend's leaf, for upstreamName,
// other.xx.test and 127.0.0.1 under an intermediate, and the files the
// proxy reads.
var pki struct {
	pool                *x509.CertPool
	certPEM, keyPEM     string
	caFile, otherCAFile string
	frontendDir         string // default.shop.test.{crt,key}, www.shop.test.{crt,key}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sniproof-proxy-test")
	if err == nil {
		err = setupPKI(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func setupPKI(dir string) error {
	ca, err := certs.NewCA("sniproof proxy test CA")
	if err != nil {
		return err
	}
	inter, err := ca.Intermediate("sniproof proxy test intermediate")
	if err != nil {
		return err
	}
	leaf, err := inter.Leaf(upstreamName, "other.xx.test", "127.0.0.1")
	if err != nil {
		return err
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		return err
	}
	other, err := certs.NewCA("unrelated CA")
	if err != nil {
		return err
	}
	pki.pool = certs.Pool(ca)
	pki.certPEM, pki.keyPEM = string(leaf.ChainPEM()), string(key)
	pki.caFile = filepath.Join(dir, "ca.pem")
	pki.otherCAFile = filepath.Join(dir, "other-ca.pem")
	pki.frontendDir = dir
	if err := os.WriteFile(pki.caFile, ca.CertPEM(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(pki.otherCAFile, other.CertPEM(), 0o644); err != nil {
		return err
	}
	for _, name := range []string{"default.shop.test", "www.shop.test"} {
		l, err := ca.Leaf(name)
		if err != nil {
			return err
		}
		if err := l.WriteFiles(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// startBackend runs the SNI-only backend with the given listeners on
// loopback, each with the test leaf.
func startBackend(t *testing.T, listeners ...backend.Listener) *backend.Server {
	t.Helper()
	for i := range listeners {
		listeners[i].Addr = "127.0.0.1:0"
		if !listeners[i].Plain {
			listeners[i].CertPEM, listeners[i].KeyPEM = pki.certPEM, pki.keyPEM
		}
	}
	b, err := backend.New(&backend.Config{Control: "127.0.0.1:0", Listeners: listeners}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// sawSNI is the SNI of the first handshake or refusal on a backend
// listener after event seq, and whether there is one.
func sawSNI(b *backend.Server, listener string, after int64) (string, bool) {
	for _, e := range b.Events(listener, after) {
		if e.Kind == backend.KindHandshake || e.Kind == backend.KindRefused {
			return e.SNI, true
		}
	}
	return "", false
}

// lastSeq is the sequence number of the backend's last event.
func lastSeq(b *backend.Server) int64 {
	events := b.Events("", 0)
	if len(events) == 0 {
		return 0
	}
	return events[len(events)-1].Seq
}

// logBuffer is the proxy's log, kept for tests to wait on.
type logBuffer struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, strings.TrimSuffix(string(p), "\n"))
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

// find is the index and text of the first line of the kind ("access" or
// "error") for the request path, or -1 and "".
func (l *logBuffer) find(kind, path string) (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, line := range l.lines {
		if strings.HasPrefix(line, kind+" ") && strings.Contains(line, " path="+path+" ") {
			return i, line
		}
	}
	return -1, ""
}

// wait is like find, waiting for the line.
func (l *logBuffer) wait(t *testing.T, kind, path string) (int, string) {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		if i, line := l.find(kind, path); i >= 0 {
			return i, line
		}
		select {
		case <-l.changed:
		case <-timeout:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no %s line for path %s in the log:\n%s", kind, path, strings.Join(l.lines, "\n"))
		}
	}
}

// startProxy runs a proxy for cfg, on a plain HTTP frontend on loopback
// when cfg names no frontend; routes without verify get "off".
func startProxy(t *testing.T, cfg Config) (*Server, *logBuffer) {
	t.Helper()
	if cfg.HTTP == "" && cfg.HTTPS == "" {
		cfg.HTTP = "127.0.0.1:0"
	}
	for i := range cfg.Routes {
		if cfg.Routes[i].Verify == "" {
			cfg.Routes[i].Verify = verifyOff
		}
	}
	log := &logBuffer{changed: make(chan struct{}, 1)}
	p, err := New(&cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p, log
}

// get sends GET path with the Host header host to the proxy's HTTP
// frontend and returns the status and body.
func get(t *testing.T, p *Server, host, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+p.HTTPAddr().String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	return do(t, http.DefaultClient, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// seen decodes the backend's answer.
func seen(t *testing.T, body []byte) backend.Seen {
	t.Helper()
	var s backend.Seen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("backend answer %q: %v", body, err)
	}
	return s
}

// checkLines checks the access line of a request, and its error line: it
// must exist, come first and hold every string of wantErr, or, when
// wantErr is empty, not exist.
func checkLines(t *testing.T, log *logBuffer, path, wantAccess string, wantErr []string) {
	t.Helper()
	ai, access := log.wait(t, "access", path)
	if !strings.Contains(access, wantAccess) {
		t.Errorf("access line:\n%s\nwant it to contain:\n%s", access, wantAccess)
	}
	ei, errLine := log.find("error", path)
	switch {
	case len(wantErr) == 0 && ei >= 0:
		t.Errorf("unexpected error line:\n%s", errLine)
	case len(wantErr) > 0 && ei < 0:
		t.Errorf("no error line for %s", path)
	case ei > ai:
		t.Errorf("error line %d comes after access line %d", ei, ai)
	}
	for _, w := range wantErr {
		if !strings.Contains(errLine, w) {
			t.Errorf("error line:\n%s\nwant it to contain:\n%s", errLine, w)
		}
	}
}

// TestSNIModes runs every SNI mode against a backend that serves
// www.xx.test only and refuses anything else with alert 80, as in the
// field report.
func TestSNIModes(t *testing.T) {
	b := startBackend(t, backend.Listener{Name: "alert80", Names: []string{upstreamName}, Refuse: backend.RefuseAlert80})
	addr := b.Addr("alert80").String()
	_, port, _ := net.SplitHostPort(addr)
	named := "https://" + upstreamName + ":" + port

	tests := []struct {
		name       string
		route      Route // Host is the request's Host
		wantStatus int
		wantSNI    string
		wantErr    []string
	}{
		{"auto sends the URL host", Route{Host: "auto.shop.test", Upstream: named, Dial: addr, SNI: "auto"},
			200, upstreamName, nil},
		{"auto sends nothing for an IP", Route{Host: "auto-ip.shop.test", Upstream: "https://" + addr, SNI: "auto"},
			502, "", []string{"(alert 80 internal_error)", `hint: the upstream refuses a ClientHello without SNI; set "sni": "name:NAME" with a name the upstream serves`}},
		{"default is auto", Route{Host: "default.shop.test", Upstream: named, Dial: addr},
			200, upstreamName, nil},
		{"off sends nothing", Route{Host: "off.shop.test", Upstream: named, Dial: addr, SNI: "off"},
			502, "", []string{`sni="" err="tls handshake with ` + addr + `: remote error: tls: internal error (alert 80 internal_error)" hint: the upstream refuses a ClientHello without SNI; set "sni": "auto" or "name:www.xx.test"`}},
		{"host-header sends the client's Host", Route{Host: upstreamName, Upstream: "https://" + addr, SNI: "host-header"},
			200, upstreamName, nil},
		{"host-header with a name not served", Route{Host: "unknown.shop.test", Upstream: "https://" + addr, SNI: "host-header"},
			502, "unknown.shop.test", []string{"(alert 80 internal_error)", `hint: the upstream refuses the SNI name "unknown.shop.test"`}},
		{"name sends the name", Route{Host: "name.shop.test", Upstream: "https://" + addr, SNI: "name:" + upstreamName},
			200, upstreamName, nil},
	}
	cfg := Config{}
	for _, tt := range tests {
		cfg.Routes = append(cfg.Routes, tt.route)
	}
	p, log := startProxy(t, cfg)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := lastSeq(b)
			path := fmt.Sprintf("/modes/%d", i)
			status, body := get(t, p, tt.route.Host, path)
			if status != tt.wantStatus {
				t.Errorf("GET http://%s%s: status %d, want %d; body %s", tt.route.Host, path, status, tt.wantStatus, body)
			}
			if got, ok := sawSNI(b, "alert80", after); !ok || got != tt.wantSNI {
				t.Errorf("GET http://%s%s: backend saw SNI %q (a handshake: %t), want %q", tt.route.Host, path, got, ok, tt.wantSNI)
			}
			if status == 200 {
				if s := seen(t, body); s.SNI != tt.wantSNI || s.Path != path {
					t.Errorf("backend answered %+v, want SNI %q path %s", s, tt.wantSNI, path)
				}
			}
			wantAccess := fmt.Sprintf("access method=GET host=%s path=%s status=%d route=%s/ upstream=%s sni=%q duration=",
				tt.route.Host, path, tt.wantStatus, tt.route.Host, tt.route.Upstream, tt.wantSNI)
			checkLines(t, log, path, wantAccess, tt.wantErr)
		})
	}
}

// TestRefusals checks the status, alert name and hint for each way an
// upstream refuses a ClientHello without SNI, and for a plain HTTP port.
func TestRefusals(t *testing.T) {
	b := startBackend(t,
		backend.Listener{Name: "alert112", Names: []string{upstreamName}, Refuse: backend.RefuseAlert112},
		backend.Listener{Name: "alert40", Names: []string{upstreamName}, Refuse: backend.RefuseAlert40},
		backend.Listener{Name: "close", Names: []string{upstreamName}, Refuse: backend.RefuseClose},
		backend.Listener{Name: "hang", Names: []string{upstreamName}, Refuse: backend.RefuseHang},
		backend.Listener{Name: "plain", Plain: true},
	)
	const advice = `set "sni": "auto" or "name:www.xx.test"`
	tests := []struct {
		listener   string
		wantStatus int
		wantErr    []string
	}{
		{"alert112", 502, []string{"(alert 112 unrecognized_name)", "hint: the upstream refuses a ClientHello without SNI; " + advice}},
		{"alert40", 502, []string{"(alert 40 handshake_failure)", "hint: the upstream refuses a ClientHello without SNI; " + advice}},
		{"close", 502, []string{"(the upstream closed the connection)", "hint: the upstream refuses a ClientHello without SNI; " + advice}},
		{"hang", 504, []string{"timed out after 300ms", "hint: the upstream did not answer a ClientHello without SNI within 300ms (timeouts.tls_handshake); it may require SNI: " + advice}},
		{"plain", 502, []string{"first record does not look like a TLS handshake"}},
	}
	cfg := Config{Timeouts: Timeouts{TLSHandshake: "300ms"}}
	for _, tt := range tests {
		cfg.Routes = append(cfg.Routes, Route{Host: tt.listener + ".shop.test", Upstream: "https://" + upstreamName,
			Dial: b.Addr(tt.listener).String(), SNI: "off"})
	}
	p, log := startProxy(t, cfg)
	for _, tt := range tests {
		t.Run(tt.listener, func(t *testing.T) {
			host, path := tt.listener+".shop.test", "/refusals/"+tt.listener
			if status, body := get(t, p, host, path); status != tt.wantStatus {
				t.Errorf("GET http://%s%s: status %d, want %d; body %s", host, path, status, tt.wantStatus, body)
			}
			checkLines(t, log, path, fmt.Sprintf(`status=%d route=%s/ upstream=https://www.xx.test sni="" duration=`, tt.wantStatus, host), tt.wantErr)
			if _, line := log.find("error", path); tt.listener == "plain" && strings.Contains(line, "hint:") {
				t.Errorf("error line has a hint: %s", line)
			}
		})
	}
}

// TestVerify checks certificate verification against the CA bundle of
// "verify": the name checked is the SNI sent, or the URL host without SNI,
// an IP host being checked against the IP SANs.
func TestVerify(t *testing.T) {
	b := startBackend(t,
		backend.Listener{Name: "strict", Names: []string{upstreamName}},
		backend.Listener{Name: "lenient", Lenient: true},
	)
	strict, lenient := b.Addr("strict").String(), b.Addr("lenient").String()
	tests := []struct {
		name       string
		route      Route
		wantStatus int
		wantErr    []string
	}{
		{"right CA", Route{Upstream: "https://" + strict, SNI: "name:" + upstreamName, Verify: pki.caFile}, 200, nil},
		{"wrong CA", Route{Upstream: "https://" + strict, SNI: "name:" + upstreamName, Verify: pki.otherCAFile}, 502,
			[]string{"certificate signed by unknown authority", `hint: the certificate does not match www.xx.test or is not issued by the CA in "verify"`}},
		{"name not in the certificate", Route{Upstream: "https://" + lenient, SNI: "name:wrong.xx.test", Verify: pki.caFile}, 502,
			[]string{"not wrong.xx.test", `hint: the certificate does not match wrong.xx.test or is not issued by the CA in "verify"`}},
		{"no SNI checks the URL host", Route{Upstream: "https://" + upstreamName, Dial: lenient, SNI: "off", Verify: pki.caFile}, 200, nil},
		{"no SNI checks an IP host against IP SANs", Route{Upstream: "https://" + lenient, SNI: "auto", Verify: pki.caFile}, 200, nil},
		{"IP host not in the certificate", Route{Upstream: "https://127.0.0.2:1", Dial: lenient, SNI: "off", Verify: pki.caFile}, 502,
			[]string{"not 127.0.0.2", `hint: the certificate does not match 127.0.0.2 or is not issued by the CA in "verify"`}},
	}
	var cfg Config
	for i, tt := range tests {
		tt.route.Host = fmt.Sprintf("verify%d.shop.test", i)
		cfg.Routes = append(cfg.Routes, tt.route)
	}
	p, log := startProxy(t, cfg)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, path := cfg.Routes[i].Host, fmt.Sprintf("/verify/%d", i)
			if status, body := get(t, p, host, path); status != tt.wantStatus {
				t.Errorf("GET http://%s%s: status %d, want %d; body %s", host, path, status, tt.wantStatus, body)
			}
			checkLines(t, log, path, fmt.Sprintf("status=%d", tt.wantStatus), tt.wantErr)
		})
	}
}

// TestHostHeader checks the Host header sent upstream in each mode against
// a backend that answers 421 when Host and SNI differ, which the proxy
// passes through.
func TestHostHeader(t *testing.T) {
	b := startBackend(t, backend.Listener{Name: "strict", Names: []string{upstreamName}, StrictHost: true})
	addr := b.Addr("strict").String()
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name       string // also the path prefix of the route
		hostHeader string
		wantStatus int
		wantHost   string
	}{
		{"default", "", 200, upstreamName + ":" + port},
		{"upstream", "upstream", 200, upstreamName + ":" + port},
		{"client", "client", 421, "client.shop.test"},
		{"value", "value:" + upstreamName, 200, upstreamName},
	}
	var cfg Config
	for _, tt := range tests {
		cfg.Routes = append(cfg.Routes, Route{Host: "*", Path: "/" + tt.name + "/",
			Upstream: "https://" + upstreamName + ":" + port, Dial: addr, HostHeader: tt.hostHeader})
	}
	p, log := startProxy(t, cfg)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/" + tt.name + "/x"
			status, body := get(t, p, "client.shop.test", path)
			if s := seen(t, body); status != tt.wantStatus || s.Status != tt.wantStatus || s.Host != tt.wantHost || s.SNI != upstreamName {
				t.Errorf("GET %s: status %d, backend saw %+v; want %d, Host %s, SNI %s", path, status, s, tt.wantStatus, tt.wantHost, upstreamName)
			}
			checkLines(t, log, path, fmt.Sprintf("status=%d", tt.wantStatus), nil)
		})
	}
}

// TestHostHeaderPools checks that with "sni": "host-header" a connection
// made for one name is reused for that name only.
func TestHostHeaderPools(t *testing.T) {
	b := startBackend(t, backend.Listener{Name: "lenient", Lenient: true})
	p, _ := startProxy(t, Config{Routes: []Route{{Host: "*", Upstream: "https://" + b.Addr("lenient").String(), SNI: "host-header"}}})
	conns := map[string]uint64{}
	for i, host := range []string{"a.shop.test", "b.shop.test", "a.shop.test", "b.shop.test"} {
		status, body := get(t, p, host, fmt.Sprintf("/pools/%d", i))
		s := seen(t, body)
		if status != 200 || s.SNI != host || s.ALPN != "h2" {
			t.Fatalf("request %d for %s: status %d, backend saw SNI %q ALPN %q; want 200, %s, h2", i, host, status, s.SNI, s.ALPN, host)
		}
		if c, ok := conns[host]; ok && c != s.Conn {
			t.Errorf("request %d for %s: connection %d, want the pooled %d", i, host, s.Conn, c)
		}
		conns[host] = s.Conn
	}
	if conns["a.shop.test"] == conns["b.shop.test"] {
		t.Errorf("a.shop.test and b.shop.test share connection %d", conns["a.shop.test"])
	}
}

// echo is an upstream that answers with what it received.
type echo struct {
	Method string      `json:"method"`
	Host   string      `json:"host"`
	URI    string      `json:"uri"`
	Body   string      `json:"body"`
	Header http.Header `json:"header"`
}

func startEcho(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(echo{r.Method, r.Host, r.RequestURI, string(body), r.Header})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestForwarding checks what reaches a plain HTTP upstream: method, path
// under the upstream's path, query, body, Host and the X-Forwarded-*
// headers, from the HTTP and the HTTPS (HTTP/2) frontends.
func TestForwarding(t *testing.T) {
	up := startEcho(t)
	p, log := startProxy(t, Config{
		HTTP:         "127.0.0.1:0",
		HTTPS:        "127.0.0.1:0",
		Certificates: frontendCerts(),
		Routes:       []Route{{Host: "www.shop.test", Upstream: up.URL + "/base"}},
	})
	for _, tt := range []struct {
		frontend  string
		client    *http.Client
		wantProto string
	}{
		{"http://" + p.HTTPAddr().String(), http.DefaultClient, "HTTP/1.1"},
		{"https://" + p.HTTPSAddr().String(), frontendClient(t, "www.shop.test"), "HTTP/2.0"},
	} {
		t.Run(tt.frontend[:strings.Index(tt.frontend, ":")], func(t *testing.T) {
			path := "/x/" + tt.frontend[:strings.Index(tt.frontend, ":")] + "?q=1&r=a%20b"
			req, err := http.NewRequest("POST", tt.frontend+path, strings.NewReader("hello"))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "www.shop.test"
			req.Header.Set("X-Forwarded-For", "10.0.0.1")
			resp, err := tt.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got echo
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := echo{Method: "POST", Host: strings.TrimPrefix(up.URL, "http://"), URI: "/base" + path, Body: "hello"}
			if resp.StatusCode != 200 || resp.Proto != tt.wantProto || got.Method != want.Method || got.Host != want.Host || got.URI != want.URI || got.Body != want.Body {
				t.Errorf("%s %s: %d %s, upstream got %+v; want 200 %s, %+v", req.Method, req.URL, resp.StatusCode, resp.Proto, got, tt.wantProto, want)
			}
			scheme := tt.frontend[:strings.Index(tt.frontend, ":")]
			for name, want := range map[string]string{
				"X-Forwarded-For":   "10.0.0.1, 127.0.0.1",
				"X-Forwarded-Proto": scheme,
				"X-Forwarded-Host":  "www.shop.test",
			} {
				if v := strings.Join(got.Header.Values(name), ", "); v != want {
					t.Errorf("upstream got %s: %q, want %q", name, v, want)
				}
			}
			checkLines(t, log, path, `access method=POST host=www.shop.test path=`+path+` status=200 route=www.shop.test/ upstream=`+up.URL+`/base sni="" duration=`, nil)
		})
	}
}

func frontendCerts() []Certificate {
	var certs []Certificate
	for _, name := range []string{"default.shop.test", "www.shop.test"} {
		base := filepath.Join(pki.frontendDir, name)
		certs = append(certs, Certificate{Cert: base + ".crt", Key: base + ".key"})
	}
	return certs
}

// frontendClient trusts the test CA and sends sni, or no SNI when it is "".
func frontendClient(t *testing.T, sni string) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pki.pool, ServerName: sni, InsecureSkipVerify: sni == ""},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestFrontendCertificates checks that the HTTPS frontend picks its
// certificate by the client's SNI, the first one without SNI, and answers
// the health path.
func TestFrontendCertificates(t *testing.T) {
	p, _ := startProxy(t, Config{HTTPS: "127.0.0.1:0", Certificates: frontendCerts(),
		Routes: []Route{{Host: "*", Upstream: "http://127.0.0.1:1"}}})
	for _, tt := range []struct{ sni, want string }{
		{"www.shop.test", "www.shop.test"},
		{"", "default.shop.test"},
		{"unknown.shop.test", "default.shop.test"},
	} {
		c := frontendClient(t, tt.sni)
		c.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
		resp, err := c.Get("https://" + p.HTTPSAddr().String() + HealthPath)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.TLS.PeerCertificates[0].Subject.CommonName; got != tt.want || resp.StatusCode != 200 || string(body) != "ok" {
			t.Errorf("SNI %q: certificate %s, %d %q; want %s, 200 \"ok\"", tt.sni, got, resp.StatusCode, body, tt.want)
		}
	}
}

// TestAnsweredByTheProxy checks the health path, never proxied, and the
// 404 for a request no route matches.
func TestAnsweredByTheProxy(t *testing.T) {
	p, log := startProxy(t, Config{Routes: []Route{{Host: "www.shop.test", Upstream: "http://127.0.0.1:1"}}})

	status, body := get(t, p, "www.shop.test", HealthPath)
	if status != 200 || string(body) != "ok" {
		t.Errorf("GET %s: %d %q, want 200 \"ok\"", HealthPath, status, body)
	}
	checkLines(t, log, HealthPath, "access method=GET host=www.shop.test path=/__sniproof/health status=200 duration=", nil)

	status, body = get(t, p, "other.shop.test", "/nowhere")
	if status != 404 || !strings.Contains(string(body), "no route for this host and path") {
		t.Errorf("GET http://other.shop.test/nowhere: %d %q, want 404 naming the missing route", status, body)
	}
	checkLines(t, log, "/nowhere", "access method=GET host=other.shop.test path=/nowhere status=404 duration=", nil)
}

// TestResponseHeaderTimeout checks that an upstream too slow to answer
// gets 504.
func TestResponseHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(up.Close)
	t.Cleanup(func() { close(release) })
	p, log := startProxy(t, Config{Timeouts: Timeouts{ResponseHeader: "200ms"},
		Routes: []Route{{Host: "*", Upstream: up.URL}}})
	if status, _ := get(t, p, "slow.shop.test", "/slow"); status != 504 {
		t.Errorf("GET /slow: status %d, want 504", status)
	}
	checkLines(t, log, "/slow", "status=504", []string{"timeout awaiting response headers"})
}

// inFlight starts a proxy in front of an upstream that holds every request
// until release is closed, and sends one request; entered is closed once
// the upstream has it. The result arrives on done.
func inFlight(t *testing.T) (p *Server, entered, release chan struct{}, done chan string) {
	t.Helper()
	entered, release, done = make(chan struct{}), make(chan struct{}), make(chan string, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	}))
	t.Cleanup(up.Close)
	p, _ = startProxy(t, Config{Routes: []Route{{Host: "*", Upstream: up.URL}}})
	url := "http://" + p.HTTPAddr().String() + "/in-flight"
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			done <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		done <- fmt.Sprintf("%d %s", resp.StatusCode, body)
	}()
	<-entered
	return p, entered, release, done
}

// TestShutdownFinishesInFlight checks that Shutdown stops accepting at
// once and lets the request in flight finish.
func TestShutdownFinishesInFlight(t *testing.T) {
	p, _, release, done := inFlight(t)
	addr := p.HTTPAddr().String()
	stopped := make(chan error, 1)
	go func() { stopped <- p.Shutdown(context.Background()) }()

	// Shutdown closes the listener first; wait for that before releasing.
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the frontend still accepts after Shutdown")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	if got := <-done; got != "200 finished" {
		t.Errorf("request in flight: %s, want 200 finished", got)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestShutdownBounded checks that Shutdown cuts requests short when its
// context ends, and says so.
func TestShutdownBounded(t *testing.T) {
	p, _, release, done := inFlight(t)
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	if got := <-done; strings.HasPrefix(got, "200") {
		t.Errorf("request in flight: %s, want it cut short", got)
	}
}

func TestStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p, err := New(&Config{HTTP: "127.0.0.1:0", HTTPS: busy.Addr().String(), Certificates: frontendCerts(),
		Routes: []Route{{Host: "*", Upstream: "http://127.0.0.1:1"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil || !strings.HasPrefix(err.Error(), "bind https frontend: ") {
		t.Errorf("Start on a busy port = %v, want bind https frontend: ...", err)
	}
	if p.HTTPAddr() != nil {
		t.Errorf("HTTPAddr = %v after a failed Start, want nil", p.HTTPAddr())
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after a failed Start: %v", err)
	}
	if err := p.Start(); err == nil {
		t.Error("Start after Shutdown succeeded")
	}
}
