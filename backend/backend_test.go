package backend

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sniproof/sniproof/certs"
)

const name = "www.example.test"

// pki is the test certificate authority and a leaf for name.
var pki struct {
	pool        *x509.CertPool
	certPEM     string
	keyPEM      string
	otherKeyPEM string // a key that does not match certPEM
}

func TestMain(m *testing.M) {
	HangTimeout = 500 * time.Millisecond
	if err := setupPKI(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func setupPKI() error {
	ca, err := certs.NewCA("sniproof test CA")
	if err != nil {
		return err
	}
	inter, err := ca.Intermediate("sniproof test intermediate")
	if err != nil {
		return err
	}
	leaf, err := inter.Leaf(name, "other.example.test")
	if err != nil {
		return err
	}
	other, err := ca.Leaf("unrelated.example.test")
	if err != nil {
		return err
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		return err
	}
	otherKey, err := other.KeyPEM()
	if err != nil {
		return err
	}
	pki.pool = certs.Pool(ca)
	pki.certPEM, pki.keyPEM, pki.otherKeyPEM = string(leaf.ChainPEM()), string(key), string(otherKey)
	return nil
}

// eventNotifier is a log writer that keeps the lines and signals each one.
type eventNotifier struct {
	mu     sync.Mutex
	lines  []string
	signal chan struct{}
}

func (n *eventNotifier) Write(p []byte) (int, error) {
	n.mu.Lock()
	n.lines = append(n.lines, string(p))
	n.mu.Unlock()
	select {
	case n.signal <- struct{}{}:
	default:
	}
	return len(p), nil
}

// harness is a started Server with its event notifier.
type harness struct {
	*Server
	log *eventNotifier
}

// start runs a Server with the given listeners on loopback. TLS listeners
// without a certificate get the test leaf; listeners without an address
// get a free port.
func start(t *testing.T, listeners ...Listener) *harness {
	t.Helper()
	for i := range listeners {
		l := &listeners[i]
		if l.Addr == "" {
			l.Addr = "127.0.0.1:0"
		}
		if !l.Plain && l.CertPEM == "" {
			l.CertPEM, l.KeyPEM = pki.certPEM, pki.keyPEM
		}
	}
	log := &eventNotifier{signal: make(chan struct{}, 1)}
	s, err := New(&Config{Control: "127.0.0.1:0", Listeners: listeners}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{Server: s, log: log}
}

// wait returns the first event of the listener with the given kind and
// connection (0 for any), waiting for it to be recorded.
func (h *harness) wait(t *testing.T, listener, kind string, conn uint64) Event {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		for _, e := range h.Events(listener, 0) {
			if e.Kind == kind && (conn == 0 || e.Conn == conn) {
				return e
			}
		}
		select {
		case <-h.log.signal:
		case <-timeout:
			t.Fatalf("no %s event on %s; have %+v", kind, listener, h.Events("", 0))
		}
	}
}

// dial connects to a listener over TCP with a deadline for the whole test
// exchange.
func (h *harness) dial(t *testing.T, listener string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", h.Addr(listener).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// handshake runs a TLS client with cfg over a new connection to listener.
func (h *harness) handshake(t *testing.T, listener string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	tc := tls.Client(h.dial(t, listener), cfg)
	return tc, tc.Handshake()
}

// clientConfig trusts the test CA and sends sni ("" sends none).
func clientConfig(sni string) *tls.Config {
	return &tls.Config{RootCAs: pki.pool, ServerName: sni, InsecureSkipVerify: sni == ""}
}

// get sends one HTTP/1.1 request for /probe with the given Host over c.
func get(t *testing.T, c net.Conn, host string) (int, Seen) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET /probe?q=1 HTTP/1.1\r\nHost: %s\r\n\r\n", host); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decodeSeen(t, resp)
}

func decodeSeen(t *testing.T, resp *http.Response) Seen {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var seen Seen
	if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
		t.Fatal(err)
	}
	return seen
}

func TestServedSNI(t *testing.T) {
	h := start(t, Listener{Name: "sni", Names: []string{"WWW.EXAMPLE.TEST"}})
	tc, err := h.handshake(t, "sni", clientConfig(name))
	if err != nil {
		t.Fatal(err)
	}
	status, seen := get(t, tc, name+":443")
	want := Seen{Listener: "sni", SNI: name, Host: name + ":443", Method: "GET", Path: "/probe",
		TLSVersion: "TLS 1.3", Conn: seen.Conn, Status: 200}
	if status != 200 || seen != want || seen.Conn == 0 {
		t.Fatalf("got %d %+v, want 200 %+v", status, seen, want)
	}
	hs := h.wait(t, "sni", KindHandshake, seen.Conn)
	req := h.wait(t, "sni", KindRequest, seen.Conn)
	if hs.Seq != 1 || req.Seq != 2 || hs.SNI != name || hs.TLSVersion != "TLS 1.3" || hs.Remote != tc.LocalAddr().String() {
		t.Errorf("handshake event %+v", hs)
	}
	if req.Host != name+":443" || req.Method != "GET" || req.Path != "/probe" || req.Status != 200 || req.SNI != name {
		t.Errorf("request event %+v", req)
	}
	// Both events name the address the client dialled.
	if dialled := tc.RemoteAddr().String(); hs.Local != dialled || req.Local != dialled {
		t.Errorf("handshake and request events reached %q and %q, want %q", hs.Local, req.Local, dialled)
	}

	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	if len(h.log.lines) != 2 {
		t.Fatalf("log lines = %q", h.log.lines)
	}
	var logged Event
	if err := json.Unmarshal([]byte(h.log.lines[0]), &logged); err != nil || logged.Seq != 1 || logged.Kind != KindHandshake {
		t.Errorf("first log line %q: %+v, %v", h.log.lines[0], logged, err)
	}
}

func TestHTTPVersions(t *testing.T) {
	h := start(t, Listener{Name: "sni", Names: []string{name}})
	for _, tt := range []struct {
		name       string
		nextProtos []string
		h2         bool
		wantALPN   string
		wantProto  string
	}{
		{"h2", nil, true, "h2", "HTTP/2.0"},
		{"http/1.1 by alpn", []string{"http/1.1"}, false, "http/1.1", "HTTP/1.1"},
		{"no alpn", nil, false, "", "HTTP/1.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := clientConfig(name)
			cfg.NextProtos = tt.nextProtos
			addr := h.Addr("sni").String()
			tr := &http.Transport{
				TLSClientConfig:   cfg,
				ForceAttemptHTTP2: tt.h2,
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				},
			}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 3 * time.Second}).Get("https://" + name + "/x")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			seen := decodeSeen(t, resp)
			if resp.Proto != tt.wantProto || seen.ALPN != tt.wantALPN || seen.SNI != name || seen.Conn == 0 || seen.Host != name {
				t.Fatalf("%s: %+v", resp.Proto, seen)
			}
			if e := h.wait(t, "sni", KindHandshake, seen.Conn); e.ALPN != tt.wantALPN {
				t.Errorf("handshake event %+v", e)
			}
		})
	}
}

func TestResumption(t *testing.T) {
	h := start(t, Listener{Name: "sni", Names: []string{name}})
	cfg := clientConfig(name)
	cfg.MaxVersion = tls.VersionTLS12
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	for i, want := range []bool{false, true} {
		tc, err := h.handshake(t, "sni", cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, seen := get(t, tc, name)
		if seen.Resumed != want || seen.TLSVersion != "TLS 1.2" {
			t.Fatalf("connection %d: %+v", i, seen)
		}
		if e := h.wait(t, "sni", KindHandshake, seen.Conn); e.Resumed != want {
			t.Fatalf("connection %d: handshake event %+v", i, e)
		}
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		refuse    Refusal
		wantAlert int
		wantErr   string
	}{
		{"", 80, "remote error: tls: internal error"},
		{RefuseAlert80, 80, "remote error: tls: internal error"},
		{RefuseAlert112, 112, "remote error: tls: unrecognized name"},
		{RefuseAlert40, 40, "remote error: tls: handshake failure"},
		{RefuseClose, 0, "EOF"},
	}
	for _, tt := range tests {
		t.Run(string(tt.refuse), func(t *testing.T) {
			h := start(t, Listener{Name: "l", Names: []string{name}, Refuse: tt.refuse})
			for _, sni := range []string{"", "unknown.example.test"} {
				_, err := h.handshake(t, "l", clientConfig(sni))
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("sni %q: handshake error %v, want %q", sni, err, tt.wantErr)
				}
			}
			events := h.Events("l", 0)
			if len(events) != 2 {
				t.Fatalf("events %+v", events)
			}
			for i, want := range []Event{
				{Kind: KindRefused, Reason: ReasonMissingSNI, SNI: "", Alert: tt.wantAlert},
				{Kind: KindRefused, Reason: ReasonUnknownSNI, SNI: "unknown.example.test", Alert: tt.wantAlert},
			} {
				e := events[i]
				if e.Kind != want.Kind || e.Reason != want.Reason || e.SNI != want.SNI || e.Alert != want.Alert || e.Conn == 0 {
					t.Errorf("event %d = %+v, want %+v", i, e, want)
				}
			}
		})
	}
}

// TestRefuseCloseSendsNothing checks a bare close sends no alert bytes.
func TestRefuseCloseSendsNothing(t *testing.T) {
	h := start(t, Listener{Name: "l", Names: []string{name}, Refuse: RefuseClose})
	c := h.dial(t, "l")
	if _, err := c.Write(frame(helloMsg(), 100)); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Fatalf("read %q, %v; want nothing", b, err)
	}
}

func TestHang(t *testing.T) {
	for _, l := range []Listener{
		{Name: "refuse-hang", Names: []string{name}, Refuse: RefuseHang},
		{Name: "hang-all", Names: []string{name}, HangAll: true},
	} {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			h := start(t, l)
			raw := h.dial(t, l.Name)
			if err := raw.SetDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			sni := ""
			if l.HangAll {
				sni = name // even a served name hangs
			}
			err := tls.Client(raw, clientConfig(sni)).Handshake()
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("handshake error %v, want a timeout", err)
			}
			e := h.wait(t, l.Name, KindRefused, 0)
			wantReason := ReasonMissingSNI
			if l.HangAll {
				wantReason = ReasonHang
			}
			if e.Reason != wantReason || e.SNI != sni || e.Alert != 0 {
				t.Errorf("event %+v", e)
			}
			// After HangTimeout the backend closes without a word.
			if err := raw.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(raw); err != nil || len(b) != 0 {
				t.Fatalf("after hang: read %q, %v; want EOF", b, err)
			}
		})
	}
}

func TestTrailingDotIsUnknown(t *testing.T) {
	h := start(t,
		Listener{Name: "strict", Names: []string{name}},
		Listener{Name: "lenient", Names: []string{name}, Lenient: true},
	)
	hello := frame(helloMsg(sniExt(name+".")), 1<<14)

	c := h.dial(t, "strict")
	if _, err := c.Write(hello); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(c); string(b) != string(alertRecord(80)) {
		t.Errorf("strict listener answered %x, want an internal_error alert", b)
	}
	if e := h.wait(t, "strict", KindRefused, 0); e.Reason != ReasonUnknownSNI || e.SNI != name+"." {
		t.Errorf("strict: event %+v", e)
	}

	// Accepted by the backend, but crypto/tls rejects the ClientHello.
	c = h.dial(t, "lenient")
	if _, err := c.Write(hello); err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(c)
	if e := h.wait(t, "lenient", KindFailed, 0); e.SNI != name+"." || e.Reason != "local error: tls: error decoding message" {
		t.Errorf("lenient: event %+v", e)
	}
}

func TestLenient(t *testing.T) {
	h := start(t, Listener{Name: "lenient", Names: []string{name}, Lenient: true})
	for _, sni := range []string{"", "unknown.example.test"} {
		tc, err := h.handshake(t, "lenient", clientConfig(sni))
		if sni != "" {
			// The certificate does not cover the name; the client says so.
			var verr *tls.CertificateVerificationError
			if !errors.As(err, &verr) {
				t.Fatalf("sni %q: handshake error %v, want a verification error", sni, err)
			}
			if e := h.wait(t, "lenient", KindFailed, 0); e.SNI != sni || !strings.Contains(e.Reason, "bad certificate") {
				t.Errorf("failed event %+v", e)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		status, seen := get(t, tc, name)
		if status != 200 || seen.SNI != "" || seen.TLSVersion != "TLS 1.3" {
			t.Fatalf("sni %q: %d %+v", sni, status, seen)
		}
		if e := h.wait(t, "lenient", KindHandshake, seen.Conn); e.SNI != "" {
			t.Errorf("handshake event %+v", e)
		}
	}
}

func TestStrictHost(t *testing.T) {
	h := start(t, Listener{Name: "strict", Names: []string{name, "other.example.test"}, StrictHost: true})
	for _, tt := range []struct {
		host string
		want int
	}{
		{name, 200},
		{"WWW.example.test:8443", 200},
		{"other.example.test", 421},
		{"[::1]:443", 421},
	} {
		tc, err := h.handshake(t, "strict", clientConfig(name))
		if err != nil {
			t.Fatal(err)
		}
		status, seen := get(t, tc, tt.host)
		if status != tt.want || seen.Status != tt.want || seen.Host != tt.host || seen.SNI != name {
			t.Errorf("Host %q: %d %+v, want %d", tt.host, status, seen, tt.want)
		}
		if e := h.wait(t, "strict", KindRequest, seen.Conn); e.Status != tt.want {
			t.Errorf("Host %q: request event %+v", tt.host, e)
		}
	}
}

// TestStrictHostDefault: a lenient strict listener takes a ClientHello
// without SNI as addressed to its first name, as Apache httpd 2.4.64 and
// later do: that name and names it does not serve get 200, another of its
// names 421. With an SNI it is as strict as ever.
func TestStrictHostDefault(t *testing.T) {
	h := start(t, Listener{Name: "strictdefault", Names: []string{name, "other.example.test"}, Lenient: true, StrictHost: true})
	for _, tt := range []struct {
		sni, host string
		want      int
	}{
		{"", name, 200},
		{"", "WWW.example.test:8443", 200},
		{"", "unknown.example.test", 200},
		{"", "192.0.2.1:443", 200},
		{"", "other.example.test", 421},
		{"", "Other.Example.Test:443", 421},
		{name, "other.example.test", 421},
		{"other.example.test", name, 421},
		{"other.example.test", "other.example.test", 200},
	} {
		tc, err := h.handshake(t, "strictdefault", clientConfig(tt.sni))
		if err != nil {
			t.Fatal(err)
		}
		status, seen := get(t, tc, tt.host)
		if status != tt.want || seen.Status != tt.want || seen.SNI != tt.sni {
			t.Errorf("SNI %q, Host %q: %d %+v, want %d", tt.sni, tt.host, status, seen, tt.want)
		}
	}
}

func TestMinVersion(t *testing.T) {
	h := start(t, Listener{Name: "tls13", Names: []string{name}, MinVersion: "1.3"})
	cfg := clientConfig(name)
	cfg.MaxVersion = tls.VersionTLS12
	if _, err := h.handshake(t, "tls13", cfg); err == nil || !strings.Contains(err.Error(), "protocol version not supported") {
		t.Fatalf("handshake error %v, want protocol version not supported", err)
	}
	e := h.wait(t, "tls13", KindFailed, 0)
	if e.SNI != name || !strings.Contains(e.Reason, "unsupported versions") || e.Alert != 0 {
		t.Errorf("event %+v", e)
	}
}

func TestNotTLS(t *testing.T) {
	for _, tt := range []struct {
		name   string
		send   string
		reason string
	}{
		{"http", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", ReasonNotTLS},
		{"server hello", "\x16\x03\x01\x00\x04\x02\x00\x00\x00", "malformed client hello: handshake type 2"},
		{"nothing", "", "read client hello after 0 bytes: EOF"},
		{"half a hello", string(frame(helloMsg(), 100)[:20]), "read client hello after 20 bytes: EOF"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, Listener{Name: "tls", Names: []string{name}})
			c := h.dial(t, "tls")
			if _, err := io.WriteString(c, tt.send); err != nil {
				t.Fatal(err)
			}
			if err := c.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			// A reset is a close too: it happens when unread bytes remain.
			if b, err := io.ReadAll(c); len(b) != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("read %q, %v; want a bare close", b, err)
			}
			if e := h.wait(t, "tls", KindFailed, 0); !strings.HasPrefix(e.Reason, tt.reason) || e.SNI != "" || e.Alert != 0 {
				t.Errorf("event %+v, want reason %q", e, tt.reason)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	h := start(t, Listener{Name: "plain", Plain: true})
	resp, err := http.Get("http://" + h.Addr("plain").String() + "/p")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	seen := decodeSeen(t, resp)
	if resp.StatusCode != 200 || seen.SNI != "" || seen.TLSVersion != "" || seen.Path != "/p" || seen.Conn == 0 {
		t.Fatalf("%d %+v", resp.StatusCode, seen)
	}
	if e := h.wait(t, "plain", KindRequest, seen.Conn); e.TLSVersion != "" || e.Path != "/p" {
		t.Errorf("event %+v", e)
	}

	// The sni field is always present, even when empty.
	c := h.dial(t, "plain")
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || !strings.Contains(string(b), `"sni":""`) {
		t.Fatalf("response %q, %v", b, err)
	}
}

func TestControlAPI(t *testing.T) {
	h := start(t,
		Listener{Name: "a", Plain: true},
		Listener{Name: "b", Plain: true},
	)
	for _, l := range []string{"a", "b", "a"} {
		resp, err := http.Get("http://" + h.Addr(l).String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	control := "http://" + h.ControlAddr().String()
	fetch := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(control + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	seqs := func(body string) []int64 {
		t.Helper()
		var events []Event
		if err := json.Unmarshal([]byte(body), &events); err != nil {
			t.Fatalf("%v: %q", err, body)
		}
		var out []int64
		for _, e := range events {
			out = append(out, e.Seq)
		}
		return out
	}

	if status, body := fetch("/healthz"); status != http.StatusNoContent || body != "" {
		t.Errorf("/healthz: %d %q", status, body)
	}
	for _, tt := range []struct {
		query string
		want  string
	}{
		{"", "[1 2 3]"},
		{"?listener=a", "[1 3]"},
		{"?listener=a&after=1", "[3]"},
		{"?listener=b&after=0", "[2]"},
		{"?after=2", "[3]"},
	} {
		status, body := fetch("/events" + tt.query)
		if got := fmt.Sprint(seqs(body)); status != 200 || got != tt.want {
			t.Errorf("/events%s: %d %s, want %s", tt.query, status, got, tt.want)
		}
	}
	if status, body := fetch("/events?after=3"); status != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("/events?after=3: %d %q, want []", status, body)
	}
	for _, tt := range []struct {
		query  string
		status int
		want   string
	}{
		{"?after=x", 400, `after: expected a non-negative integer, got "x"`},
		{"?after=-1", 400, `after: expected a non-negative integer, got "-1"`},
		{"?listener=c", 404, `unknown listener "c"`},
	} {
		if status, body := fetch("/events" + tt.query); status != tt.status || strings.TrimSpace(body) != tt.want {
			t.Errorf("/events%s: %d %q, want %d %q", tt.query, status, body, tt.status, tt.want)
		}
	}
}

func TestServerLifecycle(t *testing.T) {
	h := start(t, Listener{Name: "a", Plain: true})
	if h.Addr("nope") != nil {
		t.Error("Addr of an unknown listener is not nil")
	}
	if err := h.Start(); err == nil {
		t.Error("second Start succeeded")
	}

	taken := h.Addr("a").String()
	s, err := New(&Config{Control: "127.0.0.1:0", Listeners: []Listener{
		{Name: "free", Addr: "127.0.0.1:0", Plain: true},
		{Name: "busy", Addr: taken, Plain: true},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), `bind listener "busy"`) {
		t.Fatalf("Start error = %v, want it to name the busy listener", err)
	}
	if s.Addr("free") != nil || s.ControlAddr() != nil {
		t.Error("failed Start left addresses behind")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Close ends connections in every state and can be called again.
	hang := start(t, Listener{Name: "hang", HangAll: true})
	c := hang.dial(t, "hang")
	if _, err := c.Write(frame(helloMsg(), 100)); err != nil {
		t.Fatal(err)
	}
	hang.wait(t, "hang", KindRefused, 0)
	if err := hang.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Errorf("hung connection after Close: %q, %v", b, err)
	}
	if err := hang.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := hang.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(&Config{Control: ":0"}, nil)
	if err == nil || err.Error() != "validate config: listeners: at least one required" {
		t.Fatalf("New error = %v", err)
	}
}

// TestUnixListener: a listener on unix:PATH (an upstream a proxy reaches
// over a unix socket) serves TLS as a TCP one does, on a socket anyone may
// connect to, replacing a stale socket file.
func TestUnixListener(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	h := start(t, Listener{Name: "unix", Addr: "unix:" + sock, Names: []string{name}})
	st, err := os.Stat(sock)
	if err != nil || st.Mode().Perm() != 0o666 {
		t.Fatalf("socket %s: %v, mode %v; want mode 0666", sock, err, st.Mode())
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(c, clientConfig(name))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if code, seen := get(t, tc, name); code != 200 || seen.SNI != name {
		t.Errorf("status %d, SNI %q; want 200, %s", code, seen.SNI, name)
	}
	h.wait(t, "unix", "request", 0)
}

// TestColdAndWarm: cold, the server closes each connection after its
// response and issues no session ticket, so a client's next request opens
// a new connection with a full handshake; warm, it keeps both, as real
// upstreams do. Each switch is an event.
func TestColdAndWarm(t *testing.T) {
	h := start(t, Listener{Name: "m", Names: []string{name}})
	cache := tls.NewLRUClientSessionCache(4)
	roundTrip := func() (resumed, reusable bool) {
		t.Helper()
		cfg := clientConfig(name)
		cfg.ClientSessionCache = cache
		tc, err := h.handshake(t, "m", cfg)
		if err != nil {
			t.Fatal(err)
		}
		status, _ := get(t, tc, name)
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		// A second request on the same connection works only warm.
		if _, err := fmt.Fprintf(tc, "GET /again HTTP/1.1\r\nHost: %s\r\n\r\n", name); err != nil {
			return tc.ConnectionState().DidResume, false
		}
		resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err == nil {
			resp.Body.Close()
		}
		return tc.ConnectionState().DidResume, err == nil
	}
	h.SetCold(true)
	for i := range 2 {
		if resumed, reusable := roundTrip(); resumed || reusable {
			t.Errorf("cold request %d: resumed %v, connection kept %v; want neither", i, resumed, reusable)
		}
	}
	h.SetCold(false)
	roundTrip()
	if resumed, reusable := roundTrip(); !resumed || !reusable {
		t.Errorf("warm: resumed %v, connection kept %v; want both", resumed, reusable)
	}
	var modes []string
	for _, e := range h.Events("", 0) {
		if e.Kind == KindMode {
			modes = append(modes, e.Reason)
		}
	}
	if strings.Join(modes, ",") != "cold,warm" {
		t.Errorf("mode events %q, want cold then warm", modes)
	}
}
