package check

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// TestApacheSiteFile: a lone site file's routes, the requests check makes
// up for them (ServerName, port, a path the route serves), the main
// configuration that includes it, and the route a request takes.
func TestApacheSiteFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shop.conf")
	site := `<VirtualHost *:8080>
    ServerName shop.example
    SSLProxyEngine on
    RewriteEngine on
    RewriteRule ^/img/v[0-9]+/(.*)$ https://img.internal/$1 [P]
    ProxyPass /api/ https://10.0.0.5:8443/
    <Location /search/>
        ProxyPreserveHost On
        ProxyPass https://search.internal/
    </Location>
</VirtualHost>
`
	if err := os.WriteFile(file, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &runner{opts: Options{Config: file}, adapter: &apacheAdapter{}}
	a := r.adapter.(*apacheAdapter)
	if !a.claims(file) {
		t.Fatal("the site file is not claimed")
	}
	if perr, err := a.load(r); perr != nil || err != nil {
		t.Fatal(perr, err)
	}
	a.plan(r)
	var got []string
	for _, j := range a.jobs(r, nil) {
		got = append(got, j.loc.Location+" "+j.loc.Request.String()+" "+j.targets[0].String())
	}
	want := []string{
		"RewriteRule ^/img/v[0-9]+/(.*)$ GET http://shop.example:8080/img/v0/ img.internal:443",
		"ProxyPass /api/ GET http://shop.example:8080/api/ 10.0.0.5:8443",
		"location /search/ GET http://shop.example:8080/search/ search.internal:443",
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(r.up.IPs) != 1 || r.up.IPs[0].String() != "10.0.0.5" || !slices.Equal(r.up.Hosts, []string{"img.internal", "search.internal"}) {
		t.Errorf("upstreams %+v, want the IP 10.0.0.5 and the hosts img.internal, search.internal", r.up)
	}
	main := string(a.wrapper(r))
	for _, line := range []string{"Listen 8080\n", "Include /etc/apache2/sites-enabled/shop.conf\n", "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so"} {
		if !strings.Contains(main, line) {
			t.Errorf("the main configuration has no %q:\n%s", line, main)
		}
	}
	for _, tc := range []struct {
		host, path, want string
	}{
		{"SHOP.example:8080", "/search/q", "location /search/"},
		{"other.example", "/api/x", "ProxyPass /api/"},
		{"shop.example", "/img/v2/a.png", "RewriteRule ^/img/v[0-9]+/(.*)$"},
	} {
		if rt := a.routeFor(tc.host, 8080, tc.path); rt == nil || rt.Label() != tc.want {
			t.Errorf("routeFor(%s, %s) = %v, want %s", tc.host, tc.path, rt, tc.want)
		}
	}
}

// TestDiagnoseApache: each observation's cause and Apache's own fix line.
func TestDiagnoseApache(t *testing.T) {
	cfg, err := lint.ParseApache("s.conf", []byte("<VirtualHost *:80>\nProxyPass /a/ https://10.0.0.5:8443/\n<Location /b/>\nSSLProxyEngine on\nProxyPreserveHost On\nProxyPass https://b.internal/\n</Location>\n</VirtualHost>\n<VirtualHost *:81>\nSSLProxyEngine on\nProxyPass / https://10.0.0.6/\n</VirtualHost>\n"))
	if err != nil {
		t.Fatal(err)
	}
	sni := func(s string) *string { return &s }
	for _, tc := range []struct {
		route      int
		obs        harness.Observation
		cause, fix string
	}{
		{0, harness.Observation{Backend: fixtures.BackendFailed, Reason: "read client hello after 0 bytes", Status: 500}, CauseHandshake, "SSLProxyEngine on"},
		{1, harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonUnknownSNI, SNI: sni("www.example"), Status: 500}, CauseWrongName, "ProxyPreserveHost Off"},
		{2, harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonMissingSNI, SNI: sni(""), Status: 500}, CauseNoSNI, "ProxyPass / https://<the upstream's host name>/"},
		{2, harness.Observation{Backend: fixtures.BackendServed, SNI: sni(""), Status: 500}, CauseVerify, "ProxyPass / https://<the upstream's host name>/"},
		{1, harness.Observation{Backend: fixtures.BackendServed, SNI: sni("www.example"), Status: 200}, "", ""},
	} {
		d := diagnoseApache(cfg.Routes[tc.route], &tc.obs)
		if d.Cause != tc.cause || d.Fix != tc.fix || d.Works != (tc.cause == "") {
			t.Errorf("route %d, %+v: %+v, want cause %q fix %q", tc.route, tc.obs, d, tc.cause, tc.fix)
		}
	}
	if u, _ := url.Parse("https://[::1]:8443/"); !apacheTarget(lint.ApacheTarget{URL: u}).IP {
		t.Error("an IPv6 literal is an IP target")
	}
}

// TestApacheReject: apache2 -t's refusal points at the operator's file
// and line, the innermost Apache names.
func TestApacheReject(t *testing.T) {
	for _, tc := range []struct {
		a         *apacheAdapter
		out, want string
	}{
		{&apacheAdapter{file: "/x/site.conf", main: "/etc/apache2/sites-enabled/site.conf"},
			"apache2: Syntax error on line 91 of /etc/sniproof/apache.conf: Syntax error on line 1 of /etc/apache2/sites-enabled/site.conf: /etc/apache2/sites-enabled/site.conf:1: <VirtualHost> was not closed.", "site.conf:1"},
		{&apacheAdapter{file: "/x/apache2.conf", root: "/x", main: "/etc/apache2/apache2.conf"},
			"AH00526: Syntax error on line 8 of /etc/apache2/mods-enabled/ssl.conf:\nSSLPassPhraseDialog: file 'x' does not exist", "mods-enabled/ssl.conf:8"},
	} {
		r := &runner{rep: &Report{}}
		tc.a.reject(r, 1, tc.out)
		if r.rep.Rejected == nil || r.rep.Rejected.At != tc.want {
			t.Errorf("%q: rejected %+v, want at %s", tc.out, r.rep.Rejected, tc.want)
		}
	}
}

// TestApacheCertbotSite: a certbot-made site is served over HTTPS, its
// SSLEngine on in certbot's options-ssl-apache.conf, which the run lacks.
func TestApacheCertbotSite(t *testing.T) {
	r := &runner{opts: Options{Config: "../fixtures/check/apache-site/shop-le-ssl.conf"}, adapter: &apacheAdapter{}}
	a := r.adapter.(*apacheAdapter)
	if perr, err := a.load(r); perr != nil || err != nil {
		t.Fatal(perr, err)
	}
	a.plan(r)
	jobs := a.jobs(r, nil)
	if len(jobs) != 2 || jobs[0].loc.Request.String() != "GET https://shop.example.com/api/" || !slices.Equal(a.ports(r), []int{443}) {
		t.Errorf("jobs %v, ports %v: want the two routes over HTTPS on 443", jobs, a.ports(r))
	}
	if len(a.cfg.Outside) != 1 || a.cfg.Outside[0].Path != "/etc/letsencrypt/options-ssl-apache.conf" {
		t.Errorf("outside %+v, want certbot's options-ssl-apache.conf", a.cfg.Outside)
	}
}

// TestDiagnoseApacheBalancer: the fix of an IP-literal BalancerMember is
// its own line, with a host name.
func TestDiagnoseApacheBalancer(t *testing.T) {
	cfg, err := lint.ParseApache("b.conf", []byte("<Proxy balancer://pool>\nBalancerMember https://10.0.0.7:8443 route=1\n</Proxy>\n<VirtualHost *:80>\nSSLProxyEngine on\nProxyPass / balancer://pool/\n</VirtualHost>\n"))
	if err != nil {
		t.Fatal(err)
	}
	empty := ""
	d := diagnoseApache(cfg.Routes[0], &harness.Observation{Backend: fixtures.BackendRefused, Reason: backend.ReasonMissingSNI, SNI: &empty, Status: 500})
	if d.Cause != CauseNoSNI || d.Fix != "BalancerMember https://<the upstream's host name>:8443 route=1" {
		t.Errorf("%+v, want no-sni and the BalancerMember line with a host name", d)
	}
	if f := cfg.Findings(); len(f) != 2 || f[0].Fix != d.Fix {
		t.Errorf("findings %+v, want APA002 and APA004 with the same fix", f)
	}
}
