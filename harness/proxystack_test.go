package harness

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// testStack is a Stack as far as rendering needs one: the personalities of
// fixtures/backend.yaml and a backend address. No container is involved.
func testStack(t *testing.T) *Stack {
	t.Helper()
	ps, err := fixtures.Personalities()
	if err != nil {
		t.Fatal(err)
	}
	st := &Stack{Personalities: map[string]fixtures.Personality{}, BackendIP: "10.0.0.2"}
	for _, p := range ps {
		st.Personalities[p.Name] = p
	}
	return st
}

// TestPlanNginxTable pins the nginx configuration rendered from the real
// case table: the mark location proxies to the backend's mark port; every
// case has a standalone configuration with its comment, and (HTTP and gRPC
// cases) its server_name and its location's proxy_pass line indented into
// location /; cases nginx must refuse stay out of the shared configuration;
// stream cases get distinct ports; rendering is deterministic.
func TestPlanNginxTable(t *testing.T) {
	st := testStack(t)
	cases, err := fixtures.Cases("nginx")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := st.plan(kinds["nginx"], "bookworm", cases)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	conf := string(plan.conf)
	for _, want := range []string{
		"location /__sniproof/mark/ {",
		"proxy_pass http://10.0.0.2:8000;",
		"log_format sniproof_mark '__sniproof_mark $uri';",
		"Debian bookworm",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	if strings.Contains(conf, "<no value>") {
		t.Error("nginx.conf has <no value>")
	}
	if len(plan.standalone) != len(cases) {
		t.Errorf("%d standalone configurations for %d cases", len(plan.standalone), len(cases))
	}

	ports := map[int]string{}
	for _, c := range cases {
		one, ok := plan.standalone[c.ID]
		if !ok {
			t.Errorf("case %s: no standalone configuration", c.ID)
			continue
		}
		comment := "# " + c.ID + ": " + c.Name
		if !strings.Contains(one, comment) {
			t.Errorf("case %s: standalone configuration lacks %q", c.ID, comment)
		}
		if want, inShared := c.For("1.22").ConfigError, strings.Contains(conf, comment); inShared != (want == "") {
			t.Errorf("case %s (config_error %q on 1.22): in the shared nginx.conf = %v", c.ID, want, inShared)
		}
		if c.Frontend == fixtures.FrontendStream {
			port, ok := plan.streamPorts[c.ID]
			if !ok || ports[port] != "" {
				t.Errorf("case %s: stream port %d (assigned %v, already %q's)", c.ID, port, ok, ports[port])
			}
			ports[port] = c.ID
			if !strings.Contains(one, "listen "+strconv.Itoa(port)+";") {
				t.Errorf("case %s: standalone configuration does not listen on %d", c.ID, port)
			}
			continue
		}
		if !strings.Contains(one, "server_name "+c.Request.ServerName()) {
			t.Errorf("case %s: standalone configuration lacks server_name %s", c.ID, c.Request.ServerName())
		}
		if strings.Contains(c.Location, "proxy_pass https://{{.Upstream}};") {
			line := "\n            proxy_pass https://" + st.Personalities[c.Personality].Names[0] + ";\n"
			if !strings.Contains(one, line) {
				t.Errorf("case %s: standalone configuration lacks %q", c.ID, line)
			}
		}
	}

	seed := plan.standalone["nginx/seed/no-server-name"]
	for _, want := range []string{
		"server_name nginx--seed--no-server-name.case.test;",
		"        location / {\n            proxy_pass https://www.xx.test;\n        }\n",
		"proxy_pass http://10.0.0.2:8000;",
	} {
		if !strings.Contains(seed, want) {
			t.Errorf("nginx/seed/no-server-name configuration lacks %q:\n%s", want, seed)
		}
	}
	if strings.Contains(seed, "proxy_ssl_server_name on;") || strings.Contains(seed, "nginx--seed--server-name-on") {
		t.Errorf("nginx/seed/no-server-name configuration holds another case:\n%s", seed)
	}
	if on := plan.standalone["nginx/seed/server-name-on"]; !strings.Contains(on, "\n            proxy_ssl_server_name on;\n") {
		t.Errorf("nginx/seed/server-name-on configuration lacks proxy_ssl_server_name on:\n%s", on)
	}

	again, err := st.plan(kinds["nginx"], "bookworm", cases)
	if err != nil || !bytes.Equal(again.conf, plan.conf) {
		t.Errorf("a second rendering differs (err %v)", err)
	}
}

// TestPlanNginxSnippets pins what snippets see and where they go: the http
// snippet indented into http {}, the server snippet into the server block,
// with the personality's name and port, the backend's address and the CA
// path filled in.
func TestPlanNginxSnippets(t *testing.T) {
	st := testStack(t)
	c := fixtures.Case{
		ID: "nginx/test/snippets", Name: "snippets", Personality: "alert80", Frontend: fixtures.FrontendHTTP,
		HTTP:     "upstream u {\n    server {{.BackendIP}}:{{.Port}};\n}\n",
		Server:   "proxy_ssl_trusted_certificate {{.CA}};\n",
		Location: "proxy_pass https://{{.Upstream}}:{{.Port}};\nproxy_ssl_name {{.Upstream}};\n",
		Request:  fixtures.Request{Method: "GET", Path: "/", Host: "snippets.case.test"},
		File:     "fixtures/nginx/cases.yaml", Line: 9,
	}
	plan, err := st.plan(kinds["nginx"], "trixie", []fixtures.Case{c})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(plan.conf)
	for _, want := range []string{
		"\n    upstream u {\n        server 10.0.0.2:443;\n    }\n",
		"\n        server_name snippets.case.test;\n        proxy_ssl_trusted_certificate /etc/sniproof/ca.pem;\n",
		"\n            proxy_pass https://www.xx.test:443;\n            proxy_ssl_name www.xx.test;\n        }\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf lacks %q:\n%s", want, conf)
		}
	}
	if plan.standalone[c.ID] != conf {
		t.Error("the standalone configuration of the only case differs from nginx.conf")
	}
}

// TestPlanNginxErrors pins that a case naming an unknown personality, and a
// snippet that does not render, are errors naming the case's file:line and
// id.
func TestPlanNginxErrors(t *testing.T) {
	st := testStack(t)
	base := fixtures.Case{
		ID: "nginx/test/bad", Name: "bad", Personality: "alert80", Frontend: fixtures.FrontendHTTP,
		Location: "proxy_pass https://{{.Upstream}};",
		Request:  fixtures.Request{Method: "GET", Path: "/", Host: "bad.case.test"},
		File:     "fixtures/nginx/cases.yaml", Line: 77,
	}
	tests := []struct {
		name   string
		mutate func(*fixtures.Case)
		want   []string
	}{
		{"unknown personality", func(c *fixtures.Case) { c.Personality = "nope" }, []string{"fixtures/nginx/cases.yaml:77:", `"nginx/test/bad"`, `no personality "nope"`}},
		{"unknown field", func(c *fixtures.Case) { c.Location = "proxy_pass {{.Nope}};" }, []string{"fixtures/nginx/cases.yaml:77:", `"nginx/test/bad"`, "location", "Nope"}},
		{"parse error", func(c *fixtures.Case) { c.Server = "{{if}}" }, []string{"fixtures/nginx/cases.yaml:77:", `"nginx/test/bad"`, "server"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mutate(&c)
			_, err := st.plan(kinds["nginx"], "bookworm", []fixtures.Case{c})
			if err == nil {
				t.Fatal("plan succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestNginxMark pins that the mark line the harness waits for is what the
// template's sniproof_mark log format writes for the mark path.
func TestNginxMark(t *testing.T) {
	p := &Proxy{Kind: kinds["nginx"]}
	if got, want := p.Kind.Mark("123-4"), "__sniproof_mark /__sniproof/mark/123-4"; got != want {
		t.Errorf("Mark = %q, want %q", got, want)
	}
	if p.Name() != "nginx" {
		t.Errorf("Name = %q, want nginx", p.Name())
	}
}

// TestLookupKind pins the error for an unknown proxy kind.
func TestLookupKind(t *testing.T) {
	if _, err := LookupKind("nginx"); err != nil {
		t.Fatalf("LookupKind(nginx): %v", err)
	}
	_, err := LookupKind("lighttpd2")
	if err == nil || !strings.Contains(err.Error(), `unknown proxy kind "lighttpd2" (known: `) {
		t.Errorf("LookupKind(lighttpd2) = %v, want an unknown-kind error listing the known ones", err)
	}
}
