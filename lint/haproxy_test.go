package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// TestHAProxyCasesAgree lints every HAProxy case of the conformance suite
// and checks that lint agrees with what the suite observes on real
// HAProxy: a case whose backend saw no SNI gets HAP001, a case served with
// an SNI and 200 gets no error, a configuration HAProxy refuses for want
// of a CA file gets HAP005.
func TestHAProxyCasesAgree(t *testing.T) {
	lintEveryCase(t, "haproxy", ".cfg", func(c fixtures.Case) ([]byte, error) {
		conf, err := fixtures.RenderHAProxy([]fixtures.Case{c}, fixtures.HAProxyValues{BackendIP: "192.0.2.10", CA: "/etc/sniproof/ca.crt", OtherCA: "/etc/sniproof/other-ca.crt"})
		if err != nil {
			return nil, err
		}
		return conf.Text, nil
	}, haproxyDisagreement, haproxyVersions(t)...)
}

// haproxyVersions are the HAProxy versions the matrix runs, by series.
func haproxyVersions(t *testing.T) []string {
	k, err := harness.LookupKind("haproxy")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range k.Series {
		out = append(out, v)
	}
	slices.SortFunc(out, compareVersions)
	return out
}

// haproxyDisagreement says how lint's rules disagree with what the case
// expects of real HAProxy, or "" when they agree.
func haproxyDisagreement(e fixtures.Expect, rules []string) string {
	switch {
	case strings.Contains(e.ConfigError, "no CA file") && !slices.Contains(rules, "HAP005"):
		return "HAProxy refuses this configuration: want HAP005"
	case e.SNI != nil && *e.SNI == "" && !slices.Contains(rules, "HAP001"):
		return "the backend sees no SNI: want HAP001"
	case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
		return "HAProxy sends " + *e.SNI + " and gets 200: want no error (a warning such as HAP003 may stand)"
	}
	return ""
}

// isError reports whether a rule's findings are errors.
func isError(rule string) bool {
	return slices.ContainsFunc(rules, func(r Rule) bool { return r.ID == rule && r.Severity == Error })
}

func TestParseHAProxy(t *testing.T) {
	const cfg = `# a comment
global
    ssl-server-verify none

defaults base
    mode http
    default-server ssl verify none

backend be_api from base
    server "api 1" api.example.com:8443 sni str(api.example.com) check # the API
    server api2 10.0.0.5:443 no-ssl
    server api3 [2001:db8::1]:443 weight 10 ssl
`
	c, err := ParseHAProxy("haproxy.cfg", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	be := c.Section("backend", "be_api")
	if be == nil || be.Line != 9 || be.End != 12 || be.Defaults == nil || be.Defaults.Name != "base" || be.Mode() != "http" {
		t.Fatalf("backend section %+v", be)
	}
	ss := be.Servers()
	if len(ss) != 3 {
		t.Fatalf("%d servers, want 3", len(ss))
	}
	if s := ss[0]; s.Name != "api 1" || s.Host != "api.example.com" || s.Port != "8443" || !s.SSL() || s.Params["sni"] != "str(api.example.com)" || s.Verify(c.Global()) != "none" {
		t.Errorf("server 1 %+v", s)
	}
	if s := ss[1]; s.SSL() || !s.IsIPHost() {
		t.Errorf("no-ssl server %+v", s)
	}
	if s := ss[2]; s.Host != "[2001:db8::1]" || s.Port != "443" || !s.SSL() || s.Params["weight"] != "10" {
		t.Errorf("IPv6 server %+v", s)
	}
	var got []string
	for _, f := range c.Findings() {
		got = append(got, fmt.Sprintf("%s %d", f.Rule, f.Line))
	}
	want := []string{"HAP004 10", "HAP001 12"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q want %q", got, want)
	}
}

func TestParseHAProxyErrors(t *testing.T) {
	for _, tc := range []struct{ cfg, want string }{
		{"    server s a:1\n", `haproxy.cfg:1: "server" is outside any section`},
		{"global\nfrontend\n", `haproxy.cfg:2: frontend has no name`},
		{"backend b\n    server s a:1 sni 'str(x)\n", `haproxy.cfg:2: unterminated ' quote`},
		{"backend b from nowhere\n", `haproxy.cfg:1: backend b: no defaults section named "nowhere" before it`},
		{"# only a comment\n", `haproxy.cfg: no section`},
	} {
		_, err := ParseHAProxy("haproxy.cfg", []byte(tc.cfg))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %s...", tc.cfg, err, tc.want)
		}
	}
}

func TestLooksLikeHAProxy(t *testing.T) {
	if !LooksLikeHAProxy([]byte("# haproxy\n\nglobal\n  daemon\n")) {
		t.Error("a global section is HAProxy")
	}
	if LooksLikeHAProxy([]byte("# nginx\nuser www-data;\nevents {}\n")) {
		t.Error("nginx.conf is not HAProxy")
	}
}

// FuzzParseHAProxy: any bytes parse or fail with a ConfigError naming a
// line of the input, never panic; what parses has its lines in order and
// in range, and its rules run.
func FuzzParseHAProxy(f *testing.F) {
	sample, err := os.ReadFile("../fixtures/check/haproxy/haproxy.cfg")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte("defaults d\n  default-server ssl\nbackend b from d\n  server s \"a b\":1 no-ssl sni 'str(x)' \\# x\n"))
	f.Add([]byte("frontend f\n  bind :443 ssl crt /x\n  use_backend b if { hdr(host) -i a } || !c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		LooksLikeHAProxy(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		c, err := ParseHAProxy("haproxy.cfg", data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != "haproxy.cfg" || ce.Line < 0 || ce.Line > lines {
				t.Fatalf("error %v is not a ConfigError within the %d lines", err, lines)
			}
			return
		}
		last := 0
		for _, s := range c.Sections {
			if s.Line <= last || s.End < s.Line || s.End > lines {
				t.Fatalf("section %s at %d-%d after line %d of %d", s.Label(), s.Line, s.End, last, lines)
			}
			last = s.End
		}
		for _, fd := range c.Findings() {
			if fd.Line < 1 || fd.Line > lines {
				t.Fatalf("finding %s at line %d of %d", fd.Rule, fd.Line, lines)
			}
		}
	})
}

// TestHAProxyFiles: every file a bind, server or default-server line or
// an errorfile names, with the path HAProxy opens: a relative crt under
// crt-base, a relative ca-file or crl-file under ca-base, an errorfile
// as written; what is still relative, under the working directory (/srv
// here); a folder keeps its trailing slash.
func TestHAProxyFiles(t *testing.T) {
	const cfg = `global
    crt-base /etc/ssl/private
    ca-base certs

defaults
    errorfile 503 errors/503.http
    default-server ca-file ca.pem

frontend f
    bind :443 ssl crt site.pem ca-file /etc/ssl/clients.pem crl-file revoked.pem
    errorfile 400 /etc/haproxy/errors/400.http

backend b
    server crt 10.0.0.5:443 ssl crt client.pem ca-file /etc/ssl/certs/ca-certificates.crt sni str(crt)

frontend sites
    bind :8443 ssl crt sites/

http-errors site
    errorfile 404 errors/404.http
`
	c, err := ParseHAProxy("haproxy.cfg", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Files() {
		got = append(got, fmt.Sprintf("%d %s %s %s", f.Line.Line, f.Keyword, f.PathFrom(""), f.PathFrom("/srv")))
	}
	want := []string{
		"6 errorfile errors/503.http /srv/errors/503.http",
		"7 ca-file certs/ca.pem /srv/certs/ca.pem",
		"10 crt /etc/ssl/private/site.pem /etc/ssl/private/site.pem",
		"10 ca-file /etc/ssl/clients.pem /etc/ssl/clients.pem",
		"10 crl-file certs/revoked.pem /srv/certs/revoked.pem",
		"11 errorfile /etc/haproxy/errors/400.http /etc/haproxy/errors/400.http",
		"14 crt /etc/ssl/private/client.pem /etc/ssl/private/client.pem",
		"14 ca-file /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
		"17 crt /etc/ssl/private/sites/ /etc/ssl/private/sites/",
		"20 errorfile errors/404.http /srv/errors/404.http",
	}
	if !slices.Equal(got, want) {
		t.Errorf("files\n%q\nwant\n%q", got, want)
	}
}

// TestHAProxyRelativePath: HAP006 flags a file whose path HAProxy
// resolves against its working directory, with the path it opens under
// systemd and the fix; an absolute one, or a relative one under an
// absolute base, is not flagged.
func TestHAProxyRelativePath(t *testing.T) {
	for _, tc := range []struct {
		name, cfg string
		// want are "LINE message-part | fix-part" of each HAP006 finding.
		want []string
	}{
		{"no base", "frontend f\n    bind :443 ssl crt fullcert.pem\nbackend b\n    server s up.example:443 ssl verify required ca-file ca-certificates.crt sni str(up.example)\n", []string{
			"2 crt fullcert.pem is a relative path and no crt-base is set: HAProxy resolves it against its working directory (/ under systemd: it opens /fullcert.pem) | crt /etc/haproxy/fullcert.pem if it is in /etc/haproxy), or set crt-base to its folder",
			"4 ca-file ca-certificates.crt is a relative path and no ca-base is set: HAProxy resolves it against its working directory (/ under systemd: it opens /ca-certificates.crt) | ca-file /etc/haproxy/ca-certificates.crt if it is in /etc/haproxy), or set ca-base to its folder",
		}},
		{"absolute bases", "global\n    crt-base /etc/ssl/private\n    ca-base /etc/ssl/certs\nfrontend f\n    bind :443 ssl crt fullcert.pem\nbackend b\n    server s up.example:443 ssl ca-file ca-certificates.crt crl-file crl.pem sni str(up.example)\n", nil},
		{"ca-base does not cover crt", "global\n    ca-base /etc/ssl/certs\nbackend b\n    server s up.example:443 ssl crt client.pem ca-file ca.pem sni str(up.example)\n", []string{
			"4 crt client.pem is a relative path and no crt-base is set | set crt-base",
		}},
		{"relative base", "global\n    crt-base certs\nfrontend f\n    bind :443 ssl crt site.pem\n", []string{
			"4 crt site.pem is a relative path under the relative crt-base certs: HAProxy resolves it against its working directory (/ under systemd: it opens /certs/site.pem) | crt /etc/haproxy/certs/site.pem",
		}},
		{"default-server and crl-file", "defaults\n    default-server ssl verify required ca-file /etc/ssl/ca.pem crl-file revoked.pem\nbackend b\n    server s up.example:443 sni str(up.example)\n", []string{
			"2 crl-file revoked.pem is a relative path and no ca-base is set | set ca-base",
		}},
		{"errorfile", "global\n    crt-base /etc/ssl/private\ndefaults\n    errorfile 503 errors/503.http\n    errorfile 504 /etc/haproxy/errors/504.http\n", []string{
			"4 errorfile errors/503.http is a relative path: HAProxy resolves it against its working directory (/ under systemd: it opens /errors/503.http) | errorfile 503 /etc/haproxy/errors/503.http if it is in /etc/haproxy)",
		}},
	} {
		c, err := ParseHAProxy("haproxy.cfg", []byte(tc.cfg))
		if err != nil {
			t.Fatal(err)
		}
		var got []Finding
		for _, f := range c.Findings() {
			if f.Rule == "HAP006" {
				got = append(got, f)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: HAP006 findings %v, want %d", tc.name, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			line, parts, _ := strings.Cut(w, " ")
			msg, fix, _ := strings.Cut(parts, " | ")
			f := got[i]
			if fmt.Sprint(f.Line) != line || f.Severity != Warning || !strings.Contains(f.Message, msg) || !strings.Contains(f.Fix, fix) ||
				!strings.HasSuffix(f.Message, "not the configuration's folder, and refuses to start when the file is not there") {
				t.Errorf("%s: finding %d:\n%s\nwant line %s, a warning, message with %q, fix with %q", tc.name, i, f, line, msg, fix)
			}
		}
	}
}

// TestHAProxyRelativeRule: HAP006 is among lint's rules, a warning whose
// doc names what grounds it.
func TestHAProxyRelativeRule(t *testing.T) {
	i := slices.IndexFunc(Rules(), func(r Rule) bool { return r.ID == "HAP006" })
	if i < 0 {
		t.Fatal("no rule HAP006")
	}
	r := Rules()[i]
	if r.Severity != Warning || r.Name != "haproxy-relative-path" || !strings.Contains(r.Help, "fixtures/check/haproxy-relative") {
		t.Errorf("rule %+v", r)
	}
}

// TestHAProxyTemplatesAndResolvers: server-template lines are servers,
// named by their prefix and range, and nameserver lines give the
// resolvers' addresses.
func TestHAProxyTemplatesAndResolvers(t *testing.T) {
	c, err := ParseHAProxy("haproxy.cfg", []byte(`resolvers dns
    nameserver a 10.96.0.10:53
    nameserver b tcp@10.96.0.11:53
defaults
    default-server init-addr none
backend be
    server-template web 1-3 web.svc:443 ssl verify none resolvers dns
    server-template app 2 app.svc:443 ssl verify none resolvers dns
`))
	if err != nil {
		t.Fatal(err)
	}
	servers := c.Servers()
	if len(servers) != 2 {
		t.Fatalf("%d servers, want 2", len(servers))
	}
	web := servers[0]
	if web.Host != "web.svc" || web.Port != "443" || web.Params["resolvers"] != "dns" || web.Params["init-addr"] != "none" || !web.SSL() {
		t.Errorf("server-template web: %+v", web)
	}
	if got := web.Names(); !slices.Equal(got, []string{"web1", "web2", "web3"}) {
		t.Errorf("web names %q", got)
	}
	if got := servers[1].Names(); !slices.Equal(got, []string{"app1", "app2"}) {
		t.Errorf("app names %q", got)
	}
	var addrs []string
	for _, ns := range c.Nameservers() {
		addrs = append(addrs, ns.Addr)
	}
	if !slices.Equal(addrs, []string{"10.96.0.10:53", "10.96.0.11:53"}) {
		t.Errorf("nameservers %q", addrs)
	}
}
