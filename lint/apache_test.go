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

// TestApacheCasesAgree lints every case of Apache's table, as the proxies
// suite renders it alone, and holds lint to the case's lint field or to
// what the real Apache did: no SNI seen wants APA002 (or APA001 when no
// ClientHello was sent), a name sent and 200 wants no error.
func TestApacheCasesAgree(t *testing.T) {
	_, rendered := standalone(t, "apache")
	lintEveryCase(t, "apache", ".conf", func(c fixtures.Case) ([]byte, error) {
		return []byte(rendered[c.ID]), nil
	}, func(e fixtures.Expect, rules []string) string {
		switch {
		case e.SNI != nil && *e.SNI == "" && !slices.ContainsFunc(rules, func(r string) bool { return r == "APA001" || r == "APA002" }):
			return "the backend sees no SNI: want APA001 or APA002"
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "Apache sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "")
}

// TestApacheRoutes: the routes of a site file, in Location sections and
// at the top, with RewriteRule [P] and a balancer, the settings in effect
// at each path, and the findings on their lines.
func TestApacheRoutes(t *testing.T) {
	conf := `SSLProxyEngine on
<Proxy "balancer://pool">
    BalancerMember https://a.internal:8443
    BalancerMember http://plain.internal
</Proxy>
<VirtualHost *:80>
    ServerName Shop.example:80
    ProxyPass /pool/ balancer://pool/
    ProxyPass /ip/ https://10.0.0.5:8443/
    <Location /api/>
        ProxyPreserveHost On
        ProxyPass https://api.internal/ \
            retry=0
    </Location>
    RewriteEngine on
    RewriteRule ^/img/(.*)$ https://img.internal/$1 [P,L]
    RewriteRule ^/old/(.*)$ /new/$1 [R]
    ProxyPass /plain/ http://plain.internal/
</VirtualHost>
<VirtualHost *:8080>
    SSLProxyEngine off
    ProxyPass / https://b.internal/
</VirtualHost>
`
	c, err := ParseApache("site.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Routes {
		for _, tg := range r.Targets {
			got = append(got, fmt.Sprintf("%s:%d %s %s preserve=%v engine=%v sni=%q", r.VHost.ServerName, r.VHost.Port, r.Label(), tg.URL.Host, r.Preserves(), tg.Engine(), r.SNI(tg)))
		}
	}
	want := []string{
		`shop.example:80 ProxyPass /pool/ a.internal:8443 preserve=false engine=true sni="a.internal"`,
		`shop.example:80 ProxyPass /ip/ 10.0.0.5:8443 preserve=false engine=true sni=""`,
		`shop.example:80 location /api/ api.internal preserve=true engine=true sni=""`,
		`shop.example:80 RewriteRule ^/img/(.*)$ img.internal preserve=false engine=true sni="img.internal"`,
		`:8080 ProxyPass / b.internal preserve=false engine=false sni="b.internal"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s@%d", f.Rule, f.Line))
	}
	if want := []string{"APA002@9", "APA004@9", "APA003@12", "APA001@22"}; !slices.Equal(rules, want) {
		t.Errorf("findings %q, want %q", rules, want)
	}
}

// TestApacheTree reads a Debian tree: envvars, IfModule on the modules
// mods-enabled loads, IfDefine, Include and IncludeOptional.
func TestApacheTree(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("envvars", "export APACHE_LOG_DIR=/var/log/apache2$SUFFIX\nexport APACHE_RUN_USER=www-data\n")
	write("apache2.conf", "ErrorLog ${APACHE_LOG_DIR}/error.log\nIncludeOptional mods-enabled/*.load\nInclude ports.conf\n<IfDefine NOPE>\nSSLProxyEngine off\n</IfDefine>\nIncludeOptional conf-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n")
	write("ports.conf", "Listen 80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n<IfModule mod_nope.c>\n\tListen 8443\n</IfModule>\n")
	write("mods-enabled/ssl.load", "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n")
	write("sites-enabled/a.conf", "<VirtualHost *:80>\n\tServerName a.example\n\tSSLProxyEngine on\n\tProxyPass / https://a.internal/\n</VirtualHost>\n")
	tree, ok := ApacheTreeOf(filepath.Join(dir, "apache2.conf"))
	if !ok {
		t.Fatal("not read as a Debian tree")
	}
	c, err := LoadApache(tree, filepath.Join(dir, "apache2.conf"), filepath.Join(dir, "apache2.conf"), "/etc/apache2/apache2.conf")
	if err != nil {
		t.Fatal(err)
	}
	var ports []int
	for _, l := range c.Listens {
		ports = append(ports, l.Port)
	}
	if !slices.Equal(ports, []int{80, 443}) {
		t.Errorf("listen ports %v, want [80 443]", ports)
	}
	if c.Nodes[0].Arg(0) != "/var/log/apache2/error.log" {
		t.Errorf("ErrorLog %q, want envvars expanded", c.Nodes[0].Arg(0))
	}
	if len(c.Routes) != 1 || c.Routes[0].Node.File != filepath.Join(dir, "sites-enabled/a.conf") || len(c.Findings()) != 0 {
		t.Errorf("routes %v, findings %v: want the site's one route, no finding", c.Routes, c.Findings())
	}
	write("apache2.conf", "Include missing/*.conf\n")
	if _, err := LoadApache(tree, "apache2.conf", filepath.Join(dir, "apache2.conf"), "/etc/apache2/apache2.conf"); err == nil || !strings.Contains(err.Error(), "apache2.conf:1:") {
		t.Errorf("error %v, want one at apache2.conf:1", err)
	}
}

// TestParseApacheErrors: file and line of every refusal.
func TestParseApacheErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"<VirtualHost *:80>\nServerName a\n", "a.conf:1: <VirtualHost> was not closed"},
		{"</Location>\n", "a.conf:1: </Location> without matching"},
		{"<Location />\n</VirtualHost>\n", "a.conf:2: expected </Location>"},
		{"ServerName \"a\n", "a.conf:1: unterminated quote"},
		{"<Location /\n", "a.conf:1: <Location /: a section needs"},
		{"<IfModule>\n</IfModule>\n", "a.conf:1: <IfModule> takes one argument"},
	} {
		_, err := ParseApache("a.conf", []byte(tc.text))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}

// FuzzParseApache: no input makes the parser or the rules panic.
func FuzzParseApache(f *testing.F) {
	f.Add([]byte("<VirtualHost *:80>\nSSLProxyEngine on\nProxyPass / https://a/\n</VirtualHost>\n"))
	f.Add([]byte("<Proxy balancer://p>\nBalancerMember https://10.0.0.1:8443\n</Proxy>\nProxyPass / balancer://p/\nRewriteEngine on\nRewriteRule ^/(.*) https://x/$1 [P]\n"))
	f.Add([]byte("<LocationMatch \"^/a\">\nProxyPreserveHost On\nProxyPass https://[::1]:8443/\n</LocationMatch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseApache("f.conf", data)
		if err != nil {
			return
		}
		c.Findings()
		for _, r := range c.Routes {
			r.RequestPath()
		}
	})
}

// TestApacheClaimed: lint reads an Apache site file in Apache's dialect,
// not as a configuration nginx refuses.
func TestApacheClaimed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "apache.conf")
	if err := os.WriteFile(file, []byte("# site\n<VirtualHost *:443>\n    ProxyPass / https://backend.internal/\n</VirtualHost>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, _, err := Lint(Options{}, file)
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Rule != "APA001" {
		t.Errorf("Lint: %v, %v: want APA001 (no SSLProxyEngine)", res, err)
	}
	for _, other := range []string{"http {\n server {\n  listen 80;\n  include sites/*.conf;\n }\n}\n", "global\n  log stdout local0\nlisten stats\n  bind :8404\n", "{\"routes\": []}",
		"Include \"/etc/pound/common.cfg\"\nListenHTTP\n\tAddress 0.0.0.0\n\tService\n\t\tBackend\n\t\t\tHTTPS\n\t\t\tServerName \"a.internal\"\n\t\tEnd\n\tEnd\nEnd\n"} {
		if LooksLikeApache([]byte(other)) {
			t.Errorf("LooksLikeApache(%q) = true", other)
		}
	}
}
