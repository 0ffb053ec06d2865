package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// squidCasesAgree lints every case of kind's table (squid or
// squid-openssl), as the proxies suite renders it alone, and holds lint
// to the case's lint field or to what that build did: no SNI seen wants
// SQD001 (the GnuTLS build) or SQD002, a name sent and 200 wants no error.
func squidCasesAgree(t *testing.T, kind string, noSNI ...string) {
	_, rendered := standalone(t, kind)
	lintEveryCase(t, kind, ".conf", func(c fixtures.Case) ([]byte, error) {
		return []byte(rendered[c.ID]), nil
	}, func(e fixtures.Expect, rules []string) string {
		switch {
		case e.SNI != nil && *e.SNI == "" && !slices.ContainsFunc(rules, func(r string) bool { return slices.Contains(noSNI, r) }):
			return "the backend sees no SNI: want one of " + strings.Join(noSNI, ", ")
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "Squid sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "")
}

// TestSquidCasesAgree: the GnuTLS build's table, every case with its lint
// field.
func TestSquidCasesAgree(t *testing.T) { squidCasesAgree(t, "squid", "SQD001", "SQD002") }

// TestSquidOpenSSLCasesAgree: the OpenSSL build's table, where only an IP
// peer without tls-domain= goes without SNI.
func TestSquidOpenSSLCasesAgree(t *testing.T) { squidCasesAgree(t, "squid-openssl", "SQD002") }

// TestParseSquid: ports, peers with their options, acls and
// cache_peer_access, includes by glob from the folder, continuation
// lines, findings at their lines, errors with the file and line.
func TestParseSquid(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "squid.conf")
	conf := `# squid
http_port 80 accel vhost defaultsite=shop.example.com
acl api dstdomain api.example.com
cache_peer 10.0.0.5 parent 8443 0 no-query originserver \
    tls name=api
cache_peer_access api allow api
include /etc/squid/conf.d/*.conf
include /srv/other.conf
`
	if err := os.WriteFile(main, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf.d", "web.conf"), []byte("cache_peer web.internal.example parent 443 0 originserver ssl sslflags=DONT_VERIFY_PEER tls-domain=www.internal.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseSquidFile(main)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.Peers {
		got = append(got, fmt.Sprintf("%s:%d %s %s,%d tls=%v sni=%s", filepath.Base(p.File), p.Line, p.Name, p.Host, p.Port, p.TLS, p.SNI()))
	}
	want := []string{"squid.conf:4 api 10.0.0.5,8443 tls=true sni=", "web.conf:1 web.internal.example web.internal.example,443 tls=true sni=www.internal.example"}
	if !slices.Equal(got, want) {
		t.Errorf("peers %q, want %q", got, want)
	}
	if len(c.Ports) != 1 || c.Ports[0].Port != 80 || !c.Ports[0].Accel || c.Ports[0].DefaultSite != "shop.example.com" {
		t.Errorf("ports %+v", c.Ports)
	}
	if len(c.Access) != 1 || c.Access[0].Peer != "api" || !c.Access[0].Allow || len(c.ACLs) != 1 {
		t.Errorf("access %+v acls %+v", c.Access, c.ACLs)
	}
	if !slices.Equal(c.Paths, []string{"/etc/squid/squid.conf", "/etc/squid/conf.d/web.conf"}) {
		t.Errorf("paths %q", c.Paths)
	}
	if len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "include /srv/other.conf is not read") {
		t.Errorf("notes %q", c.Notes)
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s@%s:%d", f.Rule, filepath.Base(f.File), f.Line))
	}
	if want := []string{"SQD001@squid.conf:4", "SQD002@squid.conf:4", "SQD001@web.conf:1", "SQD003@web.conf:1"}; !slices.Equal(rules, want) {
		t.Errorf("findings %q, want %q", rules, want)
	}
	if fix := SquidFix(c.Peers[0], "api.internal.example"); fix != "cache_peer 10.0.0.5 parent 8443 0 no-query originserver tls tls-domain=api.internal.example name=api" {
		t.Errorf("fix %s", fix)
	}
	for _, tc := range []struct{ conf, msg string }{
		{"http_port 80 accel\ncache_peer a.example parent x 0\n", "x.conf:2: cache_peer a.example: HTTP port"},
		{"http_port 80 accel\ncache_peer a.example parent\n", "x.conf:2: cache_peer: want"},
		{"http_port http accel\n", "x.conf:1: http_port port"},
		{"cache_peer_access a maybe b\n", "x.conf:1: cache_peer_access: want"},
	} {
		_, err := ParseSquid("x.conf", []byte(tc.conf))
		if err == nil || !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want %s...", tc.conf, err, tc.msg)
		}
	}
	if !LooksLikeSquid([]byte(conf)) || LooksLikeSquid([]byte("frontend=*,80\nbackend=a,443;;tls\n")) {
		t.Error("LooksLikeSquid")
	}
}

// FuzzParseSquid: no input makes the parser panic, and an error names the
// file.
func FuzzParseSquid(f *testing.F) {
	f.Add([]byte("http_port 80 accel vhost\nacl a dstdomain .a.example\ncache_peer 10.0.0.5 parent 443 0 originserver tls tls-flags=DONT_VERIFY_PEER name=a\ncache_peer_access a allow a\n"))
	f.Add([]byte("https_port 443 accel tls-cert=/x.pem\ncache_peer b parent 443 0 \\\n ssl\ninclude x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseSquid("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, p := range c.Peers {
			SquidFix(p, "a.example")
		}
		c.Findings()
	})
}
