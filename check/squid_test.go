package check

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// TestSquidPeers: the sample's tls cache_peers (an included one among
// them), the request made up for each from its cache_peer_access rules,
// the peer Squid gives a request, and which build check runs.
func TestSquidPeers(t *testing.T) {
	cfg, err := lint.ParseSquidFile("../fixtures/check/squid/squid.conf")
	if err != nil {
		t.Fatal(err)
	}
	a := &squidAdapter{k: squidOpenSSLKind, cfg: cfg, dir: "../fixtures/check/squid", file: "../fixtures/check/squid/squid.conf"}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	a.plan(r)
	var got []string
	for _, j := range a.jobs(r, nil) {
		got = append(got, fmt.Sprintf("%s %s %v %s %s", j.loc.Location, j.loc.At, j.targets, j.loc.Request, j.loc.Outcome))
	}
	want := []string{
		"cache_peer api squid.conf:20 [10.47.4.11:8443] GET http://shop.example.com/api/ ",
		"cache_peer admin squid.conf:26 [10.47.4.30:9443] GET http://admin.example.com/ ",
		"cache_peer billing conf.d/billing.conf:3 [billing.internal.example:443] GET http://shop.example.com/billing/ ",
		"cache_peer storefront squid.conf:34 [www.shop-cdn.example:443] GET http://shop.example.com/ ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%q\nwant\n%q", got, want)
	}
	for _, tc := range []struct{ host, path, want string }{
		{"shop.example.com", "/api/v2/cart", "api"},
		{"SHOP.example.com:80", "/cart", "storefront"},
		{"admin.example.com", "/billing/", "admin"},
		{"other.example", "/billing/x", "billing"},
		{"other.example", "/", ""},
	} {
		p, name := a.route(tc.host, tc.path), ""
		if p != nil {
			name = p.Name
		}
		if name != tc.want {
			t.Errorf("route(%s, %s) = %q, want %q", tc.host, tc.path, name, tc.want)
		}
	}
	for _, f := range r.rep.Lint {
		if f.Rule == "SQD001" {
			t.Errorf("the OpenSSL build's report has SQD001: %s", f.Message)
		}
	}
	if p, err := ProxyKind("", "../fixtures/check/squid"); err != nil || p != ProxySquidOpenSSL {
		t.Errorf("ProxyKind of the sample's folder: %s %v, want the OpenSSL build", p, err)
	}
	d := diagnoseSquid(a.peers[0], true, &harness.Observation{Backend: "refused", Reason: "missing-sni", Status: 503})
	if d.Cause != CauseNoSNI || d.Fix != "apt-get install squid-openssl (the OpenSSL build sends tls-domain= as SNI, which this peer, an IP address, then needs)" {
		t.Errorf("GnuTLS diagnosis %+v", d)
	}
	d = diagnoseSquid(a.peers[0], false, &harness.Observation{Backend: "refused", Reason: "missing-sni", Status: 503})
	if d.Cause != CauseNoSNI || d.Fix != lint.SquidFix(a.peers[0].SquidPeer, "<the upstream's host name>") {
		t.Errorf("OpenSSL diagnosis %+v", d)
	}
}

// TestSquidReject: Squid's refusals point at the operator's line, in
// both of its forms.
func TestSquidReject(t *testing.T) {
	cfg, err := lint.ParseSquidFile("../fixtures/check/squid/squid.conf")
	if err != nil {
		t.Fatal(err)
	}
	a := &squidAdapter{k: squidOpenSSLKind, cfg: cfg, dir: "../fixtures/check/squid", file: "../fixtures/check/squid/squid.conf"}
	for _, tc := range []struct{ out, at string }{
		{"2026/12/03 19:12:54| /etc/squid/squid.conf(3): unrecognized: 'bogus_directive'", "squid.conf:3"},
		{"FATAL: Bungled /etc/squid/conf.d/billing.conf line 3: cache_peer ...", "conf.d/billing.conf:3"},
		{"FATAL: something else", ""},
	} {
		r := &runner{rep: &Report{}}
		a.reject(r, 1, tc.out)
		if r.rep.Rejected.At != tc.at {
			t.Errorf("%q: at %q, want %q", tc.out, r.rep.Rejected.At, tc.at)
		}
	}
}

// TestSquidUnreachable: a squid.conf whose http_port listens on loopback
// only has its peers not checked, with the port named.
func TestSquidUnreachable(t *testing.T) {
	cfg, err := lint.ParseSquid("squid.conf", []byte("http_port 127.0.0.1:3128 accel\ncache_peer api.internal.example parent 443 0 originserver tls name=api\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := &squidAdapter{k: squidOpenSSLKind, cfg: cfg, dir: ".", file: "squid.conf"}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	a.plan(r)
	js := a.jobs(r, nil)
	if len(js) != 1 || js[0].loc.Outcome != NotChecked || !strings.Contains(js[0].loc.NotChecked, "http_port 127.0.0.1:3128 accel") {
		t.Errorf("jobs %+v", js)
	}
	if ports := a.ports(r); len(ports) != 0 {
		t.Errorf("ports %v, want none published", ports)
	}
}

// TestSquidFailover: a request of one peer that another peer's address
// served is that peer's failure, Squid having forwarded it on; the fix
// denies the other peer the first peer's own acls.
func TestSquidFailover(t *testing.T) {
	cfg, err := lint.ParseSquid("squid.conf", []byte(`http_port 80 accel vhost
acl shop dstdomain shop.example.com
acl api_path urlpath_regex ^/api/
cache_peer 10.47.4.11 parent 8443 0 originserver tls name=api
cache_peer_access api allow shop api_path
cache_peer www.shop-cdn.example parent 443 0 originserver tls name=storefront
cache_peer_access storefront allow shop
`))
	if err != nil {
		t.Fatal(err)
	}
	a := &squidAdapter{k: squidOpenSSLKind, cfg: cfg, dir: ".", file: "squid.conf"}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}, hostAddr: map[string]netip.Addr{"www.shop-cdn.example": netip.MustParseAddr("198.18.1.2")}}
	a.plan(r)
	js := a.jobs(r, nil)
	sni := "www.shop-cdn.example"
	obs := &harness.Observation{Backend: "served", Status: 200, SNI: &sni,
		Events: []backend.Event{{Kind: backend.KindRequest, Local: "198.18.1.2:443", SNI: sni}}}
	d := a.diagnose(r, &js[0], obs)
	if d.Works || d.Cause != CauseUnreachable || d.Fix != "cache_peer_access storefront deny api_path (before its allow), so that the failure of cache_peer api shows; then check again" {
		t.Errorf("api served by storefront: %+v", d)
	}
	if d := a.diagnose(r, &js[1], obs); !d.Works {
		t.Errorf("storefront served by itself: %+v", d)
	}
}
