package check

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

const sample = "../fixtures/check/sample/nginx.conf"

func loadSample(t *testing.T) *Plan {
	t.Helper()
	c, err := LoadConfig(sample, "")
	if err != nil {
		t.Fatal(err)
	}
	return NewPlan(c)
}

// TestPlanSample pins what check derives from the sample: the names and
// ports the backend answers on, the addresses it takes, where the CA goes
// and which certificate files nginx may find missing.
func TestPlanSample(t *testing.T) {
	p := loadSample(t)
	// assets-eu.cdn.example is the default of the map that gives
	// proxy_pass https://$assets_host its host, assets-us.cdn.example its
	// other branch, impersonated too for a request that chooses it.
	wantNames := []string{"admin.internal.example", "api1.internal.example", "api2.internal.example", "assets-eu.cdn.example", "assets-us.cdn.example", "db.internal.example",
		"inventory.internal.example", "orders.internal.example", "reports.internal.example", "www.shop-cdn.example"}
	if !slices.Equal(p.Names, wantNames) {
		t.Errorf("names %q\nwant  %q", p.Names, wantNames)
	}
	// Each host an upstream is reached by gets an address of its own;
	// orders.internal.example is only a proxy_ssl_name, so an alias.
	wantHosts := slices.DeleteFunc(slices.Clone(wantNames), func(n string) bool { return n == "orders.internal.example" })
	if !slices.Equal(p.Hosts, wantHosts) {
		t.Errorf("hosts %q\nwant  %q", p.Hosts, wantHosts)
	}
	if want := []string{"orders.internal.example"}; !slices.Equal(p.Aliases, want) {
		t.Errorf("aliases %q\nwant    %q", p.Aliases, want)
	}
	if want := []int{443, 5432, 8443, 9443, 50051}; !slices.Equal(p.Ports, want) {
		t.Errorf("ports %v want %v", p.Ports, want)
	}
	if want := []netip.Addr{netip.MustParseAddr("10.20.0.11"), netip.MustParseAddr("10.20.0.30")}; !slices.Equal(p.IPs, want) {
		t.Errorf("IPs %v want %v", p.IPs, want)
	}
	var trusted, certsAt []string
	for _, n := range p.Trusted {
		trusted = append(trusted, n.Pos()+" "+n.Arg(0))
	}
	for _, n := range p.Certs {
		certsAt = append(certsAt, n.Pos())
	}
	if want := []string{"sites-enabled/admin.conf:20 /etc/nginx/ssl/internal-ca.pem"}; !slices.Equal(trusted, want) {
		t.Errorf("trusted %q want %q", trusted, want)
	}
	if want := []string{"sites-enabled/grpc.conf:5", "sites-enabled/grpc.conf:6", "sites-enabled/shop.conf:13", "sites-enabled/shop.conf:14"}; !slices.Equal(certsAt, want) {
		t.Errorf("certificate directives %q want %q", certsAt, want)
	}
	var passes []string
	for _, ps := range p.Passes {
		var ts []string
		for _, tg := range ps.Targets {
			ts = append(ts, tg.String())
		}
		passes = append(passes, fmt.Sprintf("%s %s %s -> %s", ps.At(), ps.Describe(), ps.Server.Label(), strings.Join(ts, ",")))
	}
	want := []string{
		"sites-enabled/admin.conf:6 location / admin.example.com -> admin.internal.example:443",
		"sites-enabled/admin.conf:12 location /metrics/ admin.example.com -> 10.20.0.30:9443",
		"sites-enabled/admin.conf:16 location /reports/ admin.example.com -> reports.internal.example:8443",
		"sites-enabled/grpc.conf:8 location /inventory.v1.Inventory/ grpc.example.com -> inventory.internal.example:50051",
		"sites-enabled/shop.conf:16 location / shop.example.com -> www.shop-cdn.example:443",
		"sites-enabled/shop.conf:21 location /api/ shop.example.com -> api1.internal.example:443,api2.internal.example:443",
		"sites-enabled/shop.conf:25 location /orders/ shop.example.com -> 10.20.0.11:8443",
		"sites-enabled/shop.conf:30 location /assets/ shop.example.com -> assets-eu.cdn.example:443,assets-us.cdn.example:443",
		"nginx.conf:33 stream server :5432 stream server :5432 -> db.internal.example:5432",
	}
	if !slices.Equal(passes, want) {
		t.Errorf("passes:\n  %s\nwant:\n  %s", strings.Join(passes, "\n  "), strings.Join(want, "\n  "))
	}
	if !p.Daemon {
		t.Error("daemon off, want on")
	}
}

// TestPlanFiles: the files copied are the main file and every included
// one, at their container paths; trusted certificates are not copied (the
// CA goes there).
func TestPlanFiles(t *testing.T) {
	p := loadSample(t)
	files, err := p.Files()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for f := range files {
		got = append(got, f)
	}
	slices.Sort(got)
	want := []string{"/etc/nginx/conf.d/upstreams.conf", "/etc/nginx/nginx.conf", "/etc/nginx/sites-enabled/admin.conf",
		"/etc/nginx/sites-enabled/grpc.conf", "/etc/nginx/sites-enabled/shop.conf"}
	if !slices.Equal(got, want) {
		t.Errorf("files %q\nwant  %q", got, want)
	}
	left := p.Leftovers()
	if len(left) != 2 || !slices.Equal(left["/etc/nginx/sites-enabled"], []string{"*"}) || !slices.Equal(left["/etc/nginx/conf.d"], []string{"*.conf"}) {
		t.Errorf("leftover folders %v, want conf.d (*.conf) and sites-enabled (*); modules-enabled is the image's", left)
	}
}

func TestParseListen(t *testing.T) {
	for _, tc := range []struct {
		conf string
		want string
	}{
		{"listen 443 ssl http2 default_server;", "addr= port=443 ssl=true h2=true default=true reachable=true"},
		{"listen [::]:443 ssl;", "addr=[::] port=443 ssl=true h2=false default=false reachable=false"},
		{"listen [::]:80 ipv6only=off;", "addr=[::] port=80 ssl=false h2=false default=false reachable=true"},
		{"listen 127.0.0.1:8080;", "addr=127.0.0.1 port=8080 ssl=false h2=false default=false reachable=false"},
		{"listen *:8081;", "addr=* port=8081 ssl=false h2=false default=false reachable=true"},
		{"listen localhost;", "addr=localhost port=80 ssl=false h2=false default=false reachable=false"},
		{"listen unix:/run/x.sock;", "addr= port=80 ssl=false h2=false default=false reachable=false"},
	} {
		p := planOf(t, "events {}\nhttp {\n server {\n  "+tc.conf+"\n }\n}\n")
		l := p.Servers[0].Listens[0]
		got := fmt.Sprintf("addr=%s port=%d ssl=%v h2=%v default=%v reachable=%v", l.Addr, l.Port, l.SSL, l.HTTP2, l.Default, l.Reachable)
		if got != tc.want {
			t.Errorf("%s: %s want %s", tc.conf, got, tc.want)
		}
	}
}

// TestPlanKeepsVariableURLs: a pass with variables in its URL (the
// official nginx image's conf.d shape, set $up https://name; proxy_pass
// $up;) is requested as the URL the configuration's literals give it (a
// set, a map's default); one check cannot tell, or that turns out plain
// HTTP, is reported as not checked with the reason, never left out.
func TestPlanKeepsVariableURLs(t *testing.T) {
	p := planOf(t, `events {}
http {
    resolver 127.0.0.11 valid=10s;
    map $http_x_tenant $tenant_up {
        default tenants.internal.example;
        acme acme.internal.example;
    }
    server {
        listen 80;
        server_name shop.example.com;
        set $up https://api.internal.example;
        location /api/ {
            proxy_pass $up;
        }
        location /auth/ {
            set $auth_up https://auth.internal.example:8443;
            proxy_pass $auth_up/login;
            proxy_ssl_server_name on;
        }
        location /tenant/ {
            proxy_pass https://$tenant_up;
        }
        location /who/ {
            proxy_pass https://$unknown_up;
        }
        location /plain/ {
            set $plain http://plain.internal.example;
            proxy_pass $plain;
        }
    }
}
`)
	a := &nginxAdapter{cfg: p.Config, p: p}
	r := &runner{rep: &Report{}, skipIP: map[string]string{}}
	got := map[string]string{}
	for _, j := range a.jobs(r, nil) {
		got[j.loc.Location] = j.loc.NotChecked
		if j.loc.Outcome != NotChecked {
			got[j.loc.Location] = "targets " + fmt.Sprint(passOf(&j).Targets)
		}
	}
	want := map[string]string{
		"location /api/":    "targets [api.internal.example:443]",
		"location /auth/":   "targets [auth.internal.example:8443]",
		"location /tenant/": "targets [tenants.internal.example:443 acme.internal.example:443]",
		"location /who/":    "proxy_pass https://$unknown_up has variables, and $unknown_up is set by no `set` or `map` default check can read: name a request for it in an expectations file (--expect)",
		"location /plain/":  "proxy_pass $plain resolves to http://plain.internal.example (set $plain http://plain.internal.example at nginx.conf:27): no TLS to the upstream, so no SNI to check",
	}
	for loc, w := range want {
		if got[loc] != w {
			t.Errorf("%s:\n  got  %s\n  want %s", loc, got[loc], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("locations %v, want %d", got, len(want))
	}
	if !slices.Contains(p.Hosts, "tenants.internal.example") || !slices.Contains(p.Hosts, "api.internal.example") {
		t.Errorf("hosts %q: the resolved upstreams get addresses of their own", p.Hosts)
	}
}
