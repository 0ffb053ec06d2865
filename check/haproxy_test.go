package check

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sniproof/sniproof/lint"
)

// samplePlan is the plan of fixtures/check/haproxy/haproxy.cfg.
func samplePlan(t *testing.T) *haPlan {
	t.Helper()
	return haPlanOf(t, "../fixtures/check/haproxy/haproxy.cfg")
}

// haPlanOf is the plan of an HAProxy configuration file, read as check
// reads it at /etc/haproxy.
func haPlanOf(t *testing.T, file string) *haPlan {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := lint.ParseHAProxy("haproxy.cfg", data)
	if err != nil {
		t.Fatal(err)
	}
	return newHAPlan(c, file, "/etc/haproxy/haproxy.cfg")
}

func TestHAPlan(t *testing.T) {
	p := samplePlan(t)
	if got := strings.Join(p.Names, " "); got != "admin.internal.example api.shop.example static.example.com www.shop-cdn.example" {
		t.Errorf("names %s", got)
	}
	if len(p.Ports) != 2 || p.Ports[0] != 443 || p.Ports[1] != 8443 {
		t.Errorf("ports %v", p.Ports)
	}
	if len(p.IPs) != 3 || p.IPs[0].String() != "10.20.30.40" {
		t.Errorf("IPs %v", p.IPs)
	}
	if p.checks != 2 || p.checkWait != 3500*time.Millisecond {
		t.Errorf("%d checks, wait %s; want 2 and 3.5s (cdn1: inter 1s, fall 3 by default: 1s + 2 × 1s + 0.5s)", p.checks, p.checkWait)
	}
	if len(p.frontends) != 2 || len(p.backends) != 5 || len(p.backends[3].targets) != 2 {
		t.Fatalf("%d frontends, %d backends", len(p.frontends), len(p.backends))
	}
}

// TestHAProxyRequests: the request check makes up for each backend of the
// sample reaches it by HAProxy's rules.
func TestHAProxyRequests(t *testing.T) {
	p := samplePlan(t)
	want := map[string]string{
		"backend be_shop":     "GET https://shop.example.com/",
		"backend be_shop_api": "GET https://shop.example.com/api/",
		"backend be_admin":    "GET https://admin.example.com/",
		"backend be_static":   "GET https://localhost/",
		"listen reports_tcp":  "tcp :5443",
	}
	for _, b := range p.backends {
		_, req, why := p.request(b)
		if why != "" || req.String() != want[b.sec.Label()] {
			t.Errorf("%s: request %q (%s), want %q", b.sec.Label(), req, why, want[b.sec.Label()])
		}
	}
}

func TestHAProxyRoute(t *testing.T) {
	const cfg = `frontend f
    bind :80
    acl api path_beg /api/ /v2/
    acl host_a hdr_dom(host) -i a.example
    acl secure ssl_fc_sni -m end .secure.example
    use_backend be_api if api !host_a || METH_POST
    use_backend be_a if host_a
    use_backend be_secure if secure
    use_backend be_regex if { hdr_reg(host) ^x }
    default_backend be_default

backend be_api
backend be_a
backend be_secure
backend be_regex
backend be_default
`
	c, err := lint.ParseHAProxy("haproxy.cfg", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	p := newHAPlan(c, "haproxy.cfg", "/etc/haproxy/haproxy.cfg")
	f := p.frontends[0]
	for _, tc := range []struct {
		req  haRequest
		want string
	}{
		{haRequest{host: "b.example", path: "/api/x", method: "GET"}, "be_api"},
		{haRequest{host: "www.a.example", path: "/api/x", method: "GET"}, "be_a"},
		{haRequest{host: "A.EXAMPLE", path: "/", method: "POST"}, "be_api"},
		{haRequest{host: "z", path: "/", method: "GET", sni: "x.secure.example"}, "be_secure"},
		{haRequest{host: "z", path: "/", method: "GET"}, "regex"},
	} {
		sec, why := p.route(f, tc.req)
		switch {
		case tc.want == "regex":
			if sec != nil || !strings.Contains(why, "regular expression") || !strings.Contains(why, "haproxy.cfg:9") {
				t.Errorf("%+v: %v %q, want why naming the regular expression at haproxy.cfg:9", tc.req, sec, why)
			}
		case sec == nil || sec.Name != tc.want:
			t.Errorf("%+v: %v (%s), want %s", tc.req, sec, why, tc.want)
		}
	}
}

func TestParseBind(t *testing.T) {
	for _, tc := range []struct {
		bind       string
		port       int
		ssl, reach bool
	}{
		{"bind :443 ssl crt /x.pem", 443, true, true},
		{"bind 127.0.0.1:8080", 8080, false, false},
		{"bind *:80,*:81", 80, false, true},
		{"bind [::]:443 v4v6 ssl crt /x", 443, true, true},
		{"bind /run/haproxy.sock", 0, false, false},
	} {
		c, err := lint.ParseHAProxy("h.cfg", []byte("frontend f\n    "+tc.bind+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		b := parseBind(c.Sections[0].Lines[0])
		if b.Port != tc.port || b.SSL != tc.ssl || b.Reachable != tc.reach {
			t.Errorf("%s: %+v", tc.bind, b)
		}
	}
}

func TestListeningPorts(t *testing.T) {
	const procNet = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
`
	got := listeningPorts(procNet)
	if !got[443] || got[8080] || len(got) != 1 {
		t.Errorf("listening %v, want 443 only (8080 is an established connection)", got)
	}
}

func TestProxyKind(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "haproxy.cfg"), []byte("global\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ proxy, config, want string }{
		{"", dir, ProxyHAProxy},
		{"", filepath.Join(dir, "haproxy.cfg"), ProxyHAProxy},
		{"", "../fixtures/check/sample", ProxyNginx},
		{"", "../fixtures/check/sample/nginx.conf", ProxyNginx},
		{"nginx", filepath.Join(dir, "haproxy.cfg"), ProxyNginx},
		{"", "../fixtures/check/goproxy/goproxy.json", ProxyGoProxy},
		{"", "../fixtures/check/goproxy", ProxyGoProxy},
	} {
		if got, err := ProxyKind(tc.proxy, tc.config); err != nil || got != tc.want {
			t.Errorf("ProxyKind(%q, %s) = %s, %v; want %s", tc.proxy, tc.config, got, err, tc.want)
		}
	}
	if _, err := ProxyKind("envoy", dir); err == nil || err.Error() != `unknown proxy kind "envoy": check runs `+adapterNames()+` configurations` {
		t.Errorf("unknown proxy: %v", err)
	}
}

func TestHADuration(t *testing.T) {
	for v, want := range map[string]time.Duration{"": time.Second, "1500": 1500 * time.Millisecond, "2s": 2 * time.Second, "1m": time.Minute, "1d": 24 * time.Hour, "x": time.Second} {
		if got := haDuration(v, time.Second); got != want {
			t.Errorf("haDuration(%q) = %s, want %s", v, got, want)
		}
	}
}

// TestHAProxySampleWants: lint finds exactly what the HAProxy samples'
// "# want" comments say.
func TestHAProxySampleWants(t *testing.T) {
	want := regexp.MustCompile(`#\s*want((?:\s+HAP\d{3})+)`)
	for _, file := range []string{"../fixtures/check/haproxy/haproxy.cfg", "../fixtures/check/haproxy-relative/haproxy.cfg"} {
		p := haPlanOf(t, file)
		var wants, got []string
		for i, line := range strings.Split(string(p.cfg.Text), "\n") {
			if m := want.FindStringSubmatch(line); m != nil {
				for _, rule := range strings.Fields(m[1]) {
					wants = append(wants, fmt.Sprintf("%d %s", i+1, rule))
				}
			}
		}
		for _, f := range p.cfg.Findings() {
			got = append(got, fmt.Sprintf("%d %s", f.Line, f.Rule))
		}
		slices.Sort(wants)
		slices.Sort(got)
		if len(wants) == 0 || !slices.Equal(got, wants) {
			t.Errorf("%s: findings %q\nwant     %q", file, got, wants)
		}
	}
}

// TestHAProxyFilePaths: every file the configuration names is put where
// HAProxy opens it, and taken from where the operator's folder holds it:
// under the configuration's folder in the container for a path there,
// else by its relative path from the folder when HAProxy finds it by its
// working directory (and then that is said to be elsewhere).
func TestHAProxyFilePaths(t *testing.T) {
	host := filepath.Join("ops", "haproxy.cfg")
	for _, tc := range []struct {
		name, global, workDir string
		// want: "KEYWORD PATH HOST [elsewhere]" per file, HOST "-" when
		// the folder cannot hold it.
		want []string
	}{
		{"no base, under systemd", "", "/", []string{
			"errorfile /errors/503.http ops/errors/503.http elsewhere",
			"crt /fullcert.pem ops/fullcert.pem elsewhere",
			"ca-file /ca-certificates.crt ops/ca-certificates.crt elsewhere",
			"crl-file /etc/haproxy/crl.pem ops/crl.pem",
		}},
		{"no base, the image's working directory", "", "/var/lib/haproxy", []string{
			"errorfile /var/lib/haproxy/errors/503.http ops/errors/503.http elsewhere",
			"crt /var/lib/haproxy/fullcert.pem ops/fullcert.pem elsewhere",
			"ca-file /var/lib/haproxy/ca-certificates.crt ops/ca-certificates.crt elsewhere",
			"crl-file /etc/haproxy/crl.pem ops/crl.pem",
		}},
		{"a working directory that is the folder", "", "/etc/haproxy", []string{
			"errorfile /etc/haproxy/errors/503.http ops/errors/503.http",
			"crt /etc/haproxy/fullcert.pem ops/fullcert.pem",
			"ca-file /etc/haproxy/ca-certificates.crt ops/ca-certificates.crt",
			"crl-file /etc/haproxy/crl.pem ops/crl.pem",
		}},
		{"Debian's bases", "    crt-base /etc/ssl/private\n    ca-base /etc/ssl/certs\n", "/", []string{
			"errorfile /errors/503.http ops/errors/503.http elsewhere",
			"crt /etc/ssl/private/fullcert.pem -",
			"ca-file /etc/ssl/certs/ca-certificates.crt -",
			"crl-file /etc/haproxy/crl.pem ops/crl.pem",
		}},
		{"bases in the folder", "    crt-base /etc/haproxy/certs\n    ca-base /etc/haproxy/ca\n", "/", []string{
			"errorfile /errors/503.http ops/errors/503.http elsewhere",
			"crt /etc/haproxy/certs/fullcert.pem ops/certs/fullcert.pem",
			"ca-file /etc/haproxy/ca/ca-certificates.crt ops/ca/ca-certificates.crt",
			"crl-file /etc/haproxy/crl.pem ops/crl.pem",
		}},
		{"a relative base", "    crt-base certs\n", "/", []string{
			"errorfile /errors/503.http ops/errors/503.http elsewhere",
			"crt /certs/fullcert.pem ops/certs/fullcert.pem elsewhere",
			"ca-file /ca-certificates.crt ops/ca-certificates.crt elsewhere",
			"crl-file /etc/haproxy/crl.pem ops/crl.pem",
		}},
	} {
		cfg := "global\n" + tc.global + `defaults
    errorfile 503 errors/503.http
frontend f
    bind :443 ssl crt fullcert.pem
backend b
    server s up.example:443 ssl verify required ca-file ca-certificates.crt crl-file /etc/haproxy/crl.pem sni str(up.example)
`
		c, err := lint.ParseHAProxy("haproxy.cfg", []byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		p := newHAPlan(c, host, "/etc/haproxy/haproxy.cfg")
		p.workDir = tc.workDir
		var got []string
		for _, f := range p.files() {
			h, elsewhere := p.hostPath(f)
			if h == "" {
				h = "-"
			}
			line := fmt.Sprintf("%s %s %s", f.Keyword, f.path, filepath.ToSlash(h))
			if elsewhere {
				line += " elsewhere"
			}
			got = append(got, line)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

// TestWorkDirOf: HAProxy's working directory is its haproxy.service's
// WorkingDirectory= (systemd's / when it sets none), else the image's.
func TestWorkDirOf(t *testing.T) {
	const debian = "[Unit]\nDescription=HAProxy Load Balancer\n[Service]\nExecStart=/usr/sbin/haproxy -Ws -f $CONFIG -p $PIDFILE $EXTRAOPTS\nType=notify\n"
	for _, tc := range []struct{ out, dir, note string }{
		{"/lib/systemd/system/haproxy.service\n" + debian, "/", "haproxy runs with working directory / as the image's haproxy.service (/lib/systemd/system/haproxy.service) gives it under systemd"},
		{"/etc/systemd/system/haproxy.service\n" + debian + "WorkingDirectory=/etc/haproxy\n", "/etc/haproxy", "working directory /etc/haproxy as the image's haproxy.service (/etc/systemd/system/haproxy.service)"},
		{"/lib/systemd/system/haproxy.service\n" + debian + "WorkingDirectory=-/srv/haproxy\n[Service]\nWorkingDirectory=\n", "/", "working directory / as"},
		{"/var/lib/haproxy\n", "/var/lib/haproxy", "haproxy runs with working directory /var/lib/haproxy, the image's own (it has no haproxy.service)"},
	} {
		dir, note := workDirOf(tc.out)
		if dir != tc.dir || !strings.Contains(note, tc.note) || !strings.HasSuffix(note, ": relative paths in the configuration resolve there") {
			t.Errorf("%q: %s, %q; want %s, a note with %q", tc.out, dir, note, tc.dir, tc.note)
		}
	}
}

// TestAdapterNames: every adapter registers itself, and the usage errors
// list them in order.
func TestAdapterNames(t *testing.T) {
	got := adapterNames()
	for _, name := range []string{ProxyGoProxy, ProxyHAProxy, ProxyNginx} {
		if !strings.Contains(got, name) {
			t.Errorf("adapterNames() = %q, has no %s", got, name)
		}
	}
	if names := strings.FieldsFunc(strings.ReplaceAll(got, " or ", ", "), func(r rune) bool { return r == ',' || r == ' ' }); !slices.IsSorted(names) || strings.Count(got, " or ") != 1 {
		t.Errorf("adapterNames() = %q, want the names in order, the last after \"or\"", got)
	}
}

// TestEntryJobs: each entry's request on the job of the route it reaches,
// with the defaults reach fills in; an entry reaching none not checked,
// with why; a route no entry requests not checked.
func TestEntryJobs(t *testing.T) {
	routes := []string{"api", "web"}
	entries := []Entry{
		{Request: Request{Host: "api.example.com", Path: "/"}, Source: "expect.yaml:1"},
		{Request: Request{Host: "nowhere.example.com", Path: "/x", Port: 8080}, Source: "expect.yaml:4"},
	}
	jobs := entryJobs(entries, routes, "no route", func(req *Request) (string, bool, string) {
		req.Port = cmp.Or(req.Port, 80)
		req.Scheme = cmp.Or(req.Scheme, "http")
		if strings.HasPrefix(req.Host, "api.") {
			return "api", true, ""
		}
		return "", false, "no route serves " + req.Host + req.Path
	}, func(rt string) job { return job{loc: Location{Location: "route " + rt, Place: rt}} })
	var got []string
	for _, j := range jobs {
		got = append(got, fmt.Sprintf("%s %s %s %v %d", j.loc.Location, j.loc.Outcome, j.loc.NotChecked, j.loc.Request, j.port))
	}
	want := []string{
		"route api    http://api.example.com/ 80",
		"no route not-checked no route serves nowhere.example.com/x  http://nowhere.example.com:8080/x 8080",
		"route web not-checked no entry of the expectations file requests it <nil> 0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
