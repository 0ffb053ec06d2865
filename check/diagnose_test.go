package check

import (
	"strings"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

func passAt(t *testing.T, p *Plan, at string) *Pass {
	t.Helper()
	for _, ps := range p.Passes {
		if ps.At() == at {
			return ps
		}
	}
	t.Fatalf("no pass at %s", at)
	return nil
}

func str(s string) *string { return &s }

// TestDiagnose: each way the sample's locations break gets its cause and
// the configuration line that fixes it, in that location.
func TestDiagnose(t *testing.T) {
	p := loadSample(t)
	refused := func(reason, sni string) *harness.Observation {
		return &harness.Observation{Status: 502, Backend: fixtures.BackendRefused, Reason: reason, SNI: str(sni),
			Events: []backend.Event{{Kind: backend.KindRefused, Reason: reason, SNI: sni, Alert: 80}}}
	}
	for _, tc := range []struct {
		at    string
		obs   *harness.Observation
		cause string
		expl  string
		fix   string
	}{
		{"sites-enabled/admin.conf:6", refused(backend.ReasonMissingSNI, ""), CauseNoSNI,
			"nginx sent no SNI: proxy_ssl_server_name is off at sites-enabled/admin.conf:8, and the upstream refused the handshake (alert 80)",
			"proxy_ssl_server_name on;   # in location / (sites-enabled/admin.conf:6), instead of proxy_ssl_server_name off at sites-enabled/admin.conf:8"},
		{"sites-enabled/admin.conf:12", refused(backend.ReasonMissingSNI, ""), CauseNoSNI,
			"for an IP address, even with proxy_ssl_server_name on",
			"proxy_ssl_name <the upstream's host name>;   # in location /metrics/ (sites-enabled/admin.conf:12)"},
		{"sites-enabled/shop.conf:21", refused(backend.ReasonUnknownSNI, "api_pool"), CauseWrongName,
			`nginx sent SNI "api_pool" (the name of the upstream {} block at conf.d/upstreams.conf:6, which proxy_ssl_name defaults to)`,
			"proxy_ssl_name api1.internal.example;   # in location /api/ (sites-enabled/shop.conf:21)"},
		{"sites-enabled/grpc.conf:8", refused(backend.ReasonMissingSNI, ""), CauseNoSNI,
			"grpc_ssl_server_name is off by default",
			"grpc_ssl_server_name on;   # in location /inventory.v1.Inventory/ (sites-enabled/grpc.conf:8)"},
		{"nginx.conf:33", refused(backend.ReasonMissingSNI, ""), CauseNoSNI,
			"proxy_ssl_server_name is off by default",
			"proxy_ssl_server_name on;   # in stream server :5432 (nginx.conf:33)"},
		{"sites-enabled/admin.conf:16", &harness.Observation{Status: 502, Backend: fixtures.BackendFailed, Reason: "remote error: tls: bad certificate",
			ProxyLog: []string{`2026/01/01 00:00:00 [error] 7#7: *1 upstream SSL certificate does not match "reports.internal.example" while SSL handshaking to upstream, client: 1.2.3.4`}},
			CauseVerify, `nginx: upstream SSL certificate does not match "reports.internal.example" while SSL handshaking to upstream`,
			"proxy_ssl_name reports.internal.example;   # in location /reports/ (sites-enabled/admin.conf:16)"},
		{"sites-enabled/shop.conf:16", &harness.Observation{Status: 0, Error: "context deadline exceeded (Client.Timeout exceeded)", Backend: fixtures.BackendUntouched},
			CauseTimeout, "timed out", ""},
		{"sites-enabled/shop.conf:30", &harness.Observation{Status: 502, Backend: fixtures.BackendUntouched,
			ProxyLog: []string{"2026/01/01 00:00:00 [error] 7#7: *3 no resolver defined to resolve assets-eu.cdn.example, client: 1.2.3.4"}},
			CauseNoResolver, "nginx: no resolver defined to resolve assets-eu.cdn.example", "resolver <the address of the DNS server that resolves assets-eu.cdn.example>;   # in location /assets/ (sites-enabled/shop.conf:30)"},
	} {
		d := diagnose(passAt(t, p, tc.at), tc.obs)
		if d.Works || d.Cause != tc.cause || !strings.Contains(d.Explanation, tc.expl) || d.Fix != tc.fix {
			t.Errorf("%s:\n got  %s: %s\n      fix %q\n want %s: ...%s...\n      fix %q", tc.at, d.Cause, d.Explanation, d.Fix, tc.cause, tc.expl, tc.fix)
		}
	}
	ok := diagnose(passAt(t, p, "sites-enabled/shop.conf:16"), &harness.Observation{Status: 200, Backend: fixtures.BackendServed, SNI: str("www.shop-cdn.example")})
	if !ok.Works || ok.Cause != "" || ok.Fix != "" {
		t.Errorf("served 200: %+v, want it to work", ok)
	}
}

// TestServedButFailed: a failed status after the upstream's handshake says
// whether the request reached the upstream (Traffic Server's s3_auth.so
// answers 500 itself after the handshake, sending nothing).
func TestServedButFailed(t *testing.T) {
	sni := "bucket.media.example.net"
	handshake := backend.Event{Kind: backend.KindHandshake, SNI: sni}
	only := &harness.Observation{Status: 500, Backend: fixtures.BackendServed, SNI: &sni, Events: []backend.Event{handshake}}
	if got, want := servedButFailed(only), `the upstream accepted the handshake (SNI "bucket.media.example.net") but no request reached it, and the client got 500`; got != want {
		t.Errorf("handshake only: %q, want %q", got, want)
	}
	served := &harness.Observation{Status: 502, Backend: fixtures.BackendServed, SNI: &sni, Events: []backend.Event{handshake, {Kind: backend.KindRequest}}}
	if got := servedButFailed(served); !strings.HasPrefix(got, "the upstream served the request, but the client got 502") {
		t.Errorf("request served: %q", got)
	}
}
