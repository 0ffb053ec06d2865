package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/certs"
)

// The probe's name, as in the conformance cases: www.xx.test stands for the
// field report's www.xx.com.
const name = "www.xx.test"

// timeout bounds every step of a probe in these tests, generously, so that
// a loaded machine completes every handshake a server answers.
const timeout = 5 * time.Second

// hangTimeout bounds the steps of a probe of the hanging listener, which
// costs two of them; it still leaves a loaded machine time to complete the
// handshake the listener answers.
const hangTimeout = time.Second

// pki is the test CA, a leaf for name issued through an intermediate, and
// an unrelated default certificate.
var pki struct {
	roots           *x509.CertPool
	certPEM, keyPEM string
	leaf, fallback  tls.Certificate
}

func TestMain(m *testing.M) {
	backend.HangTimeout = 5 * time.Second
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
	leaf, err := inter.Leaf(name, "other.xx.test", "127.0.0.1")
	if err != nil {
		return err
	}
	fallback, err := ca.Leaf("default.xx.test")
	if err != nil {
		return err
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		return err
	}
	pki.roots = certs.Pool(ca)
	pki.certPEM, pki.keyPEM = string(leaf.ChainPEM()), string(key)
	pki.leaf, pki.fallback = leaf.TLSCertificate(), fallback.TLSCertificate()
	return nil
}

// startBackend runs the project's SNI-only backend on loopback with one
// listener per personality, serving name, and returns each listener's port.
func startBackend(t *testing.T) map[string]int {
	t.Helper()
	listeners := []backend.Listener{
		{Name: "alert80", Refuse: backend.RefuseAlert80},
		{Name: "alert112", Refuse: backend.RefuseAlert112},
		{Name: "alert40", Refuse: backend.RefuseAlert40},
		{Name: "close", Refuse: backend.RefuseClose},
		{Name: "hang", Refuse: backend.RefuseHang},
		{Name: "lenient", Lenient: true},
		{Name: "plain", Plain: true},
	}
	for i := range listeners {
		l := &listeners[i]
		l.Addr = "127.0.0.1:0"
		if !l.Plain {
			l.Names = []string{name}
			l.CertPEM, l.KeyPEM = pki.certPEM, pki.keyPEM
		}
	}
	srv, err := backend.New(&backend.Config{Control: "127.0.0.1:0", Listeners: listeners}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close backend: %v", err)
		}
	})
	ports := map[string]int{}
	for _, l := range listeners {
		ports[l.Name] = srv.Addr(l.Name).(*net.TCPAddr).Port
	}
	return ports
}

// run probes 127.0.0.1:port with the test CA.
func run(t *testing.T, port int, name string) *Report {
	t.Helper()
	return runWithin(t, port, name, timeout)
}

// runWithin probes 127.0.0.1:port with the test CA and the given timeout.
func runWithin(t *testing.T, port int, name string, timeout time.Duration) *Report {
	t.Helper()
	r, err := Run(context.Background(), "127.0.0.1", port, Options{Name: name, Timeout: timeout, Roots: pki.roots, RootsName: "test CA"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// outcomes lists a report's handshakes as "kind:outcome[:alert]".
func outcomes(r *Report) []string {
	var out []string
	for _, h := range r.Handshakes {
		s := string(h.Kind) + ":" + string(h.Outcome)
		if h.Alert != nil {
			s += fmt.Sprintf(":%d", h.Alert.Code)
		}
		out = append(out, s)
	}
	return out
}

// TestRefusals probes each way the backend refuses a ClientHello without
// SNI: every one is "requires SNI", with the alert (or its absence) named,
// and the name's certificate chain reported and verified.
func TestRefusals(t *testing.T) {
	ports := startBackend(t)
	tests := []struct {
		listener string
		want     []string
		summary  string
	}{
		{"alert80", []string{"no-sni:alert:80", "sni:ok", "unknown-sni:alert:80"},
			"requires SNI: refuses a ClientHello without SNI with alert 80 internal_error; serves www.xx.test with SNI; refuses an unknown name the same way"},
		{"alert112", []string{"no-sni:alert:112", "sni:ok", "unknown-sni:alert:112"},
			"requires SNI: refuses a ClientHello without SNI with alert 112 unrecognized_name; serves www.xx.test with SNI; refuses an unknown name the same way"},
		{"alert40", []string{"no-sni:alert:40", "sni:ok", "unknown-sni:alert:40"},
			"requires SNI: refuses a ClientHello without SNI with alert 40 handshake_failure; serves www.xx.test with SNI; refuses an unknown name the same way"},
		{"close", []string{"no-sni:closed", "sni:ok", "unknown-sni:closed"},
			"requires SNI: refuses a ClientHello without SNI by closing the connection without an alert; serves www.xx.test with SNI; refuses an unknown name the same way"},
		{"hang", []string{"no-sni:timeout", "sni:ok", "unknown-sni:timeout"},
			"requires SNI: refuses a ClientHello without SNI by never answering (no answer within 1s); serves www.xx.test with SNI; refuses an unknown name the same way"},
	}
	for _, tt := range tests {
		t.Run(tt.listener, func(t *testing.T) {
			within := timeout
			if tt.listener == "hang" {
				within = hangTimeout
			}
			r := runWithin(t, ports[tt.listener], name, within)
			if got := outcomes(r); !slices.Equal(got, tt.want) {
				t.Errorf("%s: handshakes %q, want %q", tt.listener, got, tt.want)
			}
			if r.Verdict.Kind != VerdictRequiresSNI || r.Verdict.Summary != tt.summary {
				t.Errorf("%s: verdict %s %q\nwant %s %q", tt.listener, r.Verdict.Kind, r.Verdict.Summary, VerdictRequiresSNI, tt.summary)
			}
			named := r.Handshake(WithSNI)
			if named == nil || named.SNI != name || named.Version == "" || named.ALPN != "h2" || !named.Verified || !named.CoversName {
				t.Fatalf("%s: SNI handshake %+v, want ok, h2, verified for %s", tt.listener, named, name)
			}
			if len(named.Chain) != 2 {
				t.Fatalf("%s: chain of %d certificates, want leaf and intermediate", tt.listener, len(named.Chain))
			}
			leaf := named.Chain[0]
			if leaf.CommonName != name || !slices.Equal(leaf.DNSNames, []string{name, "other.xx.test"}) ||
				!slices.Equal(leaf.IPAddresses, []string{"127.0.0.1"}) ||
				!strings.Contains(leaf.Issuer, "CN=sniproof test intermediate") || time.Until(leaf.NotAfter) < time.Hour {
				t.Errorf("%s: leaf %+v", tt.listener, leaf)
			}
			bare := r.Handshake(NoSNI)
			if bare.SNI != "" || bare.Error == "" || len(bare.Chain) != 0 {
				t.Errorf("%s: no-SNI handshake %+v", tt.listener, bare)
			}
			if bare.Outcome == TimedOut && bare.ElapsedMS < within.Milliseconds() {
				t.Errorf("%s: timed out after %d ms, before the %v timeout", tt.listener, bare.ElapsedMS, within)
			}
			if len(r.Fixes) != 6 {
				t.Errorf("%s: %d fixes, want one per proxy", tt.listener, len(r.Fixes))
			}
		})
	}
}

// TestAlertNames pins the alerts the field reports show, by number and by
// RFC 8446 name, as crypto/tls reports them.
func TestAlertNames(t *testing.T) {
	for code, want := range map[int]string{80: "internal_error", 112: "unrecognized_name", 40: "handshake_failure",
		70: "protocol_version", 48: "unknown_ca", 42: "bad_certificate", 250: "unknown"} {
		err := fmt.Errorf("handshake: %w", &net.OpError{Op: "remote error", Err: tls.AlertError(code)})
		a, ok := remoteAlert(err)
		if !ok || a.Code != code || a.Name != want {
			t.Errorf("alert %d: got %+v %v, want %s", code, a, ok, want)
		}
	}
	if _, ok := remoteAlert(&net.OpError{Op: "read", Err: tls.AlertError(80)}); ok {
		t.Error("a read error was taken for a received alert")
	}
}

// TestLenient: a server that serves its certificate without SNI does not
// require it, and no fix is offered. Against the system roots the test
// chain does not verify, and the report says why.
func TestLenient(t *testing.T) {
	ports := startBackend(t)
	r, err := Run(context.Background(), "127.0.0.1", ports["lenient"], Options{Name: name, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outcomes(r), []string{"no-sni:ok", "sni:ok", "unknown-sni:ok"}; !slices.Equal(got, want) {
		t.Errorf("handshakes %q, want %q", got, want)
	}
	if r.Verdict.Kind != VerdictSNINotRequired || r.Verdict.Summary != "does not require SNI: serves the same certificate without SNI" {
		t.Errorf("verdict %+v", r.Verdict)
	}
	if len(r.Fixes) != 0 {
		t.Errorf("fixes %+v, want none", r.Fixes)
	}
	h := r.Handshake(NoSNI)
	if r.Trust != "system roots" || h.Verified || !strings.Contains(h.VerifyError, "unknown authority") || !h.CoversName {
		t.Errorf("trust %q, no-SNI handshake %+v: want unverified by the system roots, name covered", r.Trust, h)
	}
}

// TestDefaultCertificate: a server that completes a handshake without SNI
// with a certificate for another name is named as such, with the fixes.
// The backend has one certificate per listener, so a crypto/tls server on
// loopback plays this upstream.
func TestDefaultCertificate(t *testing.T) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == name {
				return &pki.leaf, nil
			}
			return &pki.fallback, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	r := run(t, ln.Addr().(*net.TCPAddr).Port, name)
	want := "serves a default certificate without SNI (CN=default.xx.test, does not cover www.xx.test): proxies that send no SNI will fail verification"
	if r.Verdict.Kind != VerdictDefaultCertificate || r.Verdict.Summary != want {
		t.Errorf("verdict %s %q, want %q", r.Verdict.Kind, r.Verdict.Summary, want)
	}
	if h := r.Handshake(NoSNI); h.Verified || h.CoversName || h.Chain[0].CommonName != "default.xx.test" {
		t.Errorf("no-SNI handshake %+v: want the default certificate, not verified for %s", h, name)
	}
	if len(r.Fixes) == 0 {
		t.Error("no fixes")
	}
}

// TestWithoutName: an IP address without a name skips the SNI handshake
// and says why; the unknown name still tells whether any SNI will do.
func TestWithoutName(t *testing.T) {
	ports := startBackend(t)
	r := run(t, ports["alert80"], "")
	if got, want := outcomes(r), []string{"no-sni:alert:80", "unknown-sni:alert:80"}; !slices.Equal(got, want) {
		t.Errorf("handshakes %q, want %q", got, want)
	}
	if r.Name != "" || !strings.Contains(r.NameSkipped, "127.0.0.1 is an IP address") {
		t.Errorf("name %q, skipped %q", r.Name, r.NameSkipped)
	}
	if r.Verdict.Kind != VerdictInconclusive || len(r.Fixes) != 0 {
		t.Errorf("verdict %+v, %d fixes", r.Verdict, len(r.Fixes))
	}

	r = run(t, ports["lenient"], "")
	if r.Verdict.Kind != VerdictSNINotRequired || !strings.HasPrefix(r.Verdict.Summary, "does not require SNI: serves CN=www.xx.test without SNI") {
		t.Errorf("lenient: verdict %+v", r.Verdict)
	}
	// Without a name, chains are verified for the IP address.
	if h := r.Handshake(NoSNI); !h.Verified || !h.CoversName {
		t.Errorf("lenient: %+v, want verified for 127.0.0.1 (an IP SAN of the leaf)", h)
	}
}

// TestWrongName: a name the upstream does not serve is refused like no
// name at all, and the verdict says the name is the problem, not SNI.
func TestWrongName(t *testing.T) {
	ports := startBackend(t)
	r := run(t, ports["alert112"], "nobody.xx.test")
	if r.Verdict.Kind != VerdictRefusesAll || !strings.Contains(r.Verdict.Summary, "nobody.xx.test is not a name it serves") {
		t.Errorf("verdict %+v", r.Verdict)
	}
	if len(r.Fixes) != 0 {
		t.Errorf("fixes %+v, want none", r.Fixes)
	}
}

// TestNotTLS: a plain-HTTP port is named, with what it answered.
func TestNotTLS(t *testing.T) {
	ports := startBackend(t)
	r := run(t, ports["plain"], name)
	if got, want := outcomes(r), []string{"no-sni:not-tls"}; !slices.Equal(got, want) {
		t.Errorf("handshakes %q, want %q", got, want)
	}
	if r.Verdict.Kind != VerdictNotTLS || !strings.Contains(r.Verdict.Summary, `"HTTP/"`) {
		t.Errorf("verdict %+v", r.Verdict)
	}
}

// TestUnreachable: a port nothing listens on is unreachable, in one
// sentence naming host and port.
func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := run(t, port, name)
	want := fmt.Sprintf("unreachable: 127.0.0.1 port %d: connection refused", port)
	if r.Verdict.Kind != VerdictUnreachable || r.Verdict.Summary != want {
		t.Errorf("verdict %+v, want %q", r.Verdict, want)
	}
	if got, want := outcomes(r), []string{"no-sni:refused"}; !slices.Equal(got, want) {
		t.Errorf("handshakes %q, want %q", got, want)
	}
}

// TestJSON pins the field names of the report: machines read them.
func TestJSON(t *testing.T) {
	ports := startBackend(t)
	data, err := json.Marshal(run(t, ports["alert80"], name))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Host       string `json:"host"`
		Port       int    `json:"port"`
		Address    string `json:"address"`
		Name       string `json:"name"`
		Trust      string `json:"trust"`
		Handshakes []map[string]json.RawMessage
		Verdict    map[string]string
		Fixes      []map[string]json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Host != "127.0.0.1" || doc.Port != ports["alert80"] || doc.Address == "" || doc.Name != name || doc.Trust != "test CA" {
		t.Errorf("top level: %s", data)
	}
	if doc.Verdict["kind"] != "requires-sni" || !strings.HasPrefix(doc.Verdict["summary"], "requires SNI") {
		t.Errorf("verdict %v", doc.Verdict)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	wantKeys := [][]string{
		{"alert", "chain", "covers_name", "elapsed_ms", "error", "kind", "outcome", "sni", "verified"},
		{"alpn", "chain", "covers_name", "elapsed_ms", "kind", "outcome", "sni", "tls_version", "verified"},
	}
	for i, want := range wantKeys {
		if got := keys(doc.Handshakes[i]); !slices.Equal(got, want) {
			t.Errorf("handshake %d keys %q, want %q", i, got, want)
		}
	}
	if got := string(doc.Handshakes[0]["alert"]); got != `{"code":80,"name":"internal_error"}` {
		t.Errorf("alert %s", got)
	}
	var chain []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Handshakes[1]["chain"], &chain); err != nil || len(chain) != 2 {
		t.Fatalf("chain %s: %v", doc.Handshakes[1]["chain"], err)
	}
	if got, want := keys(chain[0]), []string{"common_name", "dns_names", "ip_addresses", "issuer", "not_after", "sha256"}; !slices.Equal(got, want) {
		t.Errorf("certificate keys %q, want %q", got, want)
	}
	if got, want := keys(doc.Fixes[0]), []string{"config", "note", "proxy"}; !slices.Equal(got, want) || string(doc.Fixes[0]["proxy"]) != `"nginx"` {
		t.Errorf("fix %v", doc.Fixes[0])
	}
}

// TestText: the text report puts the verdict first and ends with the
// fixes, the name in each.
func TestText(t *testing.T) {
	ports := startBackend(t)
	var b strings.Builder
	if err := run(t, ports["alert80"], name).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "probe    127.0.0.1:") || lines[1] != "name     www.xx.test" ||
		!strings.HasPrefix(lines[2], "verdict  requires SNI: refuses a ClientHello without SNI with alert 80 internal_error") {
		t.Errorf("head:\n%s", strings.Join(lines[:3], "\n"))
	}
	for _, want := range []string{
		"handshake 1: no SNI\n  outcome         TLS alert 80 internal_error\n",
		"handshake 2: SNI www.xx.test\n",
		"  verified        yes, for www.xx.test against test CA\n",
		"  certificate 0   CN=www.xx.test\n    DNS names     www.xx.test, other.xx.test\n",
		"handshake 3: SNI sniproof-probe.invalid (a name no server serves)\n",
		"fix: make the proxy send www.xx.test as SNI\n  nginx    proxy_ssl_server_name on;\n           proxy_ssl_name www.xx.test;\n",
		"  HAProxy  server app 127.0.0.1:",
		"  Caddy    reverse_proxy https://127.0.0.1:",
		"               tls_server_name www.xx.test\n",
		"  Envoy    transport_socket:\n",
		"  Traefik  http:\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// TestJudge covers the verdicts the backend cannot produce.
func TestJudge(t *testing.T) {
	ok := func(kind HandshakeKind, leaf string, covers bool) Handshake {
		return Handshake{Kind: kind, Outcome: OK, CoversName: covers,
			Chain: []Certificate{{CommonName: leaf, SHA256: leaf}}}
	}
	alert := func(kind HandshakeKind, code int) Handshake {
		a := newAlert(code)
		return Handshake{Kind: kind, Outcome: Alerted, Alert: &a}
	}
	tests := []struct {
		name       string
		handshakes []Handshake
		kind       VerdictKind
		summary    string
	}{
		{"another certificate covering the name",
			[]Handshake{ok(NoSNI, "wildcard", true), ok(WithSNI, name, true), ok(UnknownSNI, "wildcard", true)},
			VerdictSNINotRequired, "does not require SNI: serves another certificate without SNI (CN=wildcard), which also covers www.xx.test"},
		{"name refused, no SNI served",
			[]Handshake{ok(NoSNI, "default", false), alert(WithSNI, 112), alert(UnknownSNI, 112)},
			VerdictRefusesName, "refuses www.xx.test: serves CN=default without SNI, but refuses www.xx.test as SNI with alert 112 unrecognized_name; send a name it serves"},
		{"any name will do",
			[]Handshake{alert(NoSNI, 80), ok(WithSNI, name, true), ok(UnknownSNI, name, true)},
			VerdictRequiresSNI, "requires SNI: refuses a ClientHello without SNI with alert 80 internal_error; serves www.xx.test with SNI; serves an unknown name too, so any SNI will do"},
		{"different refusals",
			[]Handshake{alert(NoSNI, 80), alert(WithSNI, 70), alert(UnknownSNI, 80)},
			VerdictRefusesName, "refuses www.xx.test: refuses a ClientHello without SNI with alert 80 internal_error and one with www.xx.test with alert 70 protocol_version; send a name it serves"},
	}
	for _, tt := range tests {
		r := &Report{Host: "192.0.2.1", Port: 443, Name: name, Handshakes: tt.handshakes}
		if v := judge(r, time.Second); v.Kind != tt.kind || v.Summary != tt.summary {
			t.Errorf("%s: got %s %q\nwant %s %q", tt.name, v.Kind, v.Summary, tt.kind, tt.summary)
		}
	}
}

// TestParseTarget pins HOST[:PORT] forms and the usage errors.
func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, host string
		port     int
		err      string
	}{
		{"www.xx.test", "www.xx.test", 443, ""},
		{"www.xx.test:8443", "www.xx.test", 8443, ""},
		{"127.0.0.1", "127.0.0.1", 443, ""},
		{"[2001:db8::1]:8443", "2001:db8::1", 8443, ""},
		{"[2001:db8::1]", "2001:db8::1", 443, ""},
		{"2001:db8::1", "2001:db8::1", 443, ""},
		{"https://www.xx.test:8443/path", "www.xx.test", 8443, ""},
		{"https://www.xx.test", "www.xx.test", 443, ""},
		{"http://www.xx.test", "", 0, "only https:// URLs"},
		{"www.xx.test:https", "", 0, `port "https" is not a number`},
		{"www.xx.test:70000", "", 0, `port "70000" is not a number from 1 to 65535`},
		{":443", "", 0, "want HOST[:PORT]"},
		{"", "", 0, "want HOST[:PORT]"},
		{"a:b:c", "", 0, "want HOST[:PORT]"},
		{"[2001:db8::1", "", 0, "missing ']'"},
		{"[www.xx.test]:443", "", 0, "is not an IPv6 address"},
		{"https://ops:s3cret@www.xx.test", "", 0, `target "…@www.xx.test": a USER[:PASSWORD]@ part`},
	}
	for _, tt := range tests {
		host, port, err := ParseTarget(tt.in)
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseTarget(%q): the error echoes the password: %v", tt.in, err)
		}
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTarget(%q): error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("ParseTarget(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
		}
	}
}

// TestRunErrors pins the argument errors of Run.
func TestRunErrors(t *testing.T) {
	for _, tt := range []struct {
		host string
		port int
		opts Options
		want string
	}{
		{"", 443, Options{}, "empty host"},
		{"127.0.0.1", 0, Options{}, "port 0 out of range"},
		{"127.0.0.1", 443, Options{Timeout: -time.Second}, "negative timeout"},
		{"127.0.0.1", 443, Options{Name: "10.0.0.1"}, "is an IP address"},
		{"127.0.0.1", 443, Options{Name: "www.xx.test."}, "ends in a dot"},
	} {
		if _, err := Run(context.Background(), tt.host, tt.port, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%q, %d, %+v): %v, want %q", tt.host, tt.port, tt.opts, err, tt.want)
		}
	}
}
