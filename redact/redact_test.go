package redact_test

import (
	"strings"
	"testing"

	"github.com/sniproof/sniproof/redact"
)

// TestText holds every credential-bearing shape of the configuration
// languages and logs sniproof reads: the secret goes, the name stays.
func TestText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"nginx bearer", `proxy_set_header Authorization "Bearer s3cr3t-b3ar3r";`, `proxy_set_header Authorization "REDACTED";`},
		{"nginx api key", `    proxy_set_header X-Api-Key "k3y-v4lu3";  # billing`, `    proxy_set_header X-Api-Key "REDACTED";  # billing`},
		{"nginx basic unquoted", `proxy_set_header Authorization Basic;`, `proxy_set_header Authorization REDACTED;`},
		{"nginx in one line", `location /a { proxy_set_header Cookie "sid=abc123"; proxy_pass https://a.example; }`,
			`location /a { proxy_set_header Cookie "REDACTED"; proxy_pass https://a.example; }`},
		{"nginx set variable", `set $api_token "t0k3n";`, `set $api_token "REDACTED";`},
		{"nginx grpc", `grpc_set_header x-auth-token abc.def.ghi;`, `grpc_set_header x-auth-token REDACTED;`},
		{"haproxy stats auth", `    stats auth admin:hunter2`, `    stats auth REDACTED`},
		{"haproxy userlist password", `    user tiger password $6$k6y3o.eP$JlKBx9za9667qe4xHSwRv6J.C0/D7cV91`, `    user tiger password REDACTED`},
		{"haproxy insecure password", `    user scott insecure-password elgato groups G1`, `    user scott insecure-password REDACTED groups G1`},
		{"haproxy set-header", `    http-request set-header Authorization "Bearer abc" if { path_beg /api }`,
			`    http-request set-header Authorization "REDACTED" if { path_beg /api }`},
		{"apache request header", `RequestHeader set X-Secret-Token "abcdef"`, `RequestHeader set X-Secret-Token "REDACTED"`},
		{"apache proxypass userinfo", `ProxyPass /app https://svc:p4ssw0rd@app.internal.example/`, `ProxyPass /app https://svc:REDACTED@app.internal.example/`},
		{"caddy header_up", `		header_up Authorization "Bearer xyz"`, `		header_up Authorization "REDACTED"`},
		{"caddy basic_auth hash", `		alice $2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG`, `		alice REDACTED`},
		{"json header", `  "Authorization": "Bearer j50n",`, `  "Authorization": "REDACTED",`},
		{"json array", `"X-Api-Key": ["one", "two"]`, `"X-Api-Key": [REDACTED]`},
		{"header line", `Proxy-Authorization: Basic dXNlcjpwYXNz`, `Proxy-Authorization: REDACTED`},
		{"h2o quoted header line", `      proxy.header.set: "Authorization: Bearer h2o-s3cr3t"`, `      proxy.header.set: "Authorization: REDACTED"`},
		{"h2o quoted header line in a list", `  proxy.header.add: ['X-Api-Key: k3y', "Cookie: sid=abc"]`, `  proxy.header.add: ['X-Api-Key: REDACTED', "Cookie: REDACTED"]`},
		{"query string", `request: "GET /x?token=abc123&page=2 HTTP/1.1"`, `request: "GET /x?token=REDACTED&page=2 HTTP/1.1"`},
		{"ini", `password = hunter2`, `password = REDACTED`},
		{"key alone", `key = s3cr3tk3y`, `key = REDACTED`},
		{"apikey", `"apikey": "abc123"`, `"apikey": "REDACTED"`},
	} {
		if got := redact.Text(c.in); got != c.want {
			t.Errorf("%s:\n  in   %s\n  got  %s\n  want %s", c.name, c.in, got, c.want)
		}
	}
}

// TestTextKeeps holds values that are no secret and lines that name no
// credential: they are written as they are.
func TestTextKeeps(t *testing.T) {
	for _, in := range []string{
		`proxy_set_header Authorization $http_authorization;`,
		`proxy_set_header X-Api-Key "$api_key";`,
		`http-request set-header Authorization %[req.hdr(x-auth)]`,
		`header_up X-Api-Key {env.API_KEY}`,
		`ssl_certificate_key /etc/ssl/private/shop.key;`,
		`proxy_ssl_password_file ./keys/pass.txt;`,
		`proxy_cache_path /var/cache keys_zone=one:10m;`,
		`proxy_cache_key $scheme$proxy_host$request_uri;`,
		`auth_request /oauth2/auth;`,
		`proxy_pass https://oauth2_proxy/oauth2/auth;`,
		`upstream auth_backend {`,
		`acl auth_ok http_auth(L1)`,
		`proxy_set_header Host api.internal.example;`,
		`proxy_set_header Authorization "";`,
		`crt /etc/haproxy/site.pem is missing: check made a throwaway certificate and key there`,
		`the token is read from the environment`,
		`[ALERT] config : parsing [/etc/haproxy/bad.cfg:2] : unknown keyword 'nosuchkeyword' in 'global' section`,
		`server 10.0.0.5:443 ssl verify required ca-file /etc/haproxy/ca.pem sni str(api.example)`,
		`SSL_do_handshake() failed (SSL: error:0A000458:SSL routines::tlsv1 unrecognized name:SSL alert number 112) while SSL handshaking to upstream`,
		``,
	} {
		if got := redact.Text(in); got != in {
			t.Errorf("changed a line that holds no secret:\n  in  %s\n  got %s", in, got)
		}
	}
}

// TestCopy redacts every string of a value, whole values under a
// credential-bearing map key, and leaves the original alone.
func TestCopy(t *testing.T) {
	type inner struct {
		Config  string
		Headers map[string]string
		Lines   []string
	}
	type outer struct {
		Name  string
		In    *inner
		List  []inner
		Any   any
		count int
	}
	orig := outer{
		Name:  "location /x",
		In:    &inner{Config: `proxy_set_header Authorization "Bearer one";`, Headers: map[string]string{"Authorization": "Bearer two", "Accept": "*/*"}},
		List:  []inner{{Lines: []string{"Cookie: sid=three"}}},
		Any:   map[string]any{"X-Api-Key": "four"},
		count: 5,
	}
	got := redact.Copy(orig)
	for _, s := range []string{"one", "two", "three", "four"} {
		if strings.Contains(got.In.Config+got.In.Headers["Authorization"]+strings.Join(got.List[0].Lines, "")+got.Any.(map[string]any)["X-Api-Key"].(string), s) {
			t.Errorf("secret %q survived the copy: %+v", s, got)
		}
	}
	if got.In.Headers["Accept"] != "*/*" || got.Name != "location /x" || got.count != 5 {
		t.Errorf("the copy changed what holds no secret: %+v", got)
	}
	if orig.In.Headers["Authorization"] != "Bearer two" || !strings.Contains(orig.In.Config, "Bearer one") {
		t.Errorf("the copy changed the original: %+v", orig.In)
	}
}

// TestWriter redacts each line as it is written, however the writes cut
// the lines, and writes an unfinished last line on Close.
func TestWriter(t *testing.T) {
	var b strings.Builder
	w := redact.NewWriter(&b)
	for _, p := range []string{"proxy_set_header Authori", "zation \"Bearer abc\";\nok\nstats auth ad", "min:pw"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "proxy_set_header Authorization \"REDACTED\";\nok\nstats auth REDACTED"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func FuzzText(f *testing.F) {
	f.Add(`proxy_set_header Authorization "Bearer abc";`)
	f.Add(`"X-Api-Key": ["a", "b"]`)
	f.Add(`stats auth a:b ; token=x&y=z [`)
	f.Fuzz(func(t *testing.T, s string) {
		got := redact.Text(s)
		if redact.Text(got) != got {
			t.Errorf("not idempotent: %q → %q → %q", s, got, redact.Text(got))
		}
		if strings.Count(got, "\n") != strings.Count(s, "\n") {
			t.Errorf("lines changed: %q → %q", s, got)
		}
	})
}

// TestCopyKeepsTagged: a field tagged redact:"-" is copied as it is, any
// other string redacted.
func TestCopyKeepsTagged(t *testing.T) {
	type rec struct {
		Packages []string `redact:"-"`
		Config   string
	}
	got := redact.Copy(rec{Packages: []string{"passwd 1:4.17.4-2"}, Config: "passwd 1:4.17.4-2"})
	if got.Packages[0] != "passwd 1:4.17.4-2" || got.Config == "passwd 1:4.17.4-2" {
		t.Errorf("Copy = %+v: want Packages kept and Config redacted", got)
	}
}
