package check

import (
	"fmt"
	"testing"
)

const matchConf = `events {}
http {
    server {
        listen 80 default_server;
        server_name _;
        location / { return 404; }
    }
    server {
        listen 80;
        server_name shop.example.com *.shop.example.com;
        location / { proxy_pass http://a; }
        location = /exact { proxy_pass http://b; }
        location /api/ {
            proxy_pass http://c;
            location /api/v2/ { proxy_pass http://d; }
            location ~ \.json$ { proxy_pass http://e; }
        }
        location ^~ /static/ { proxy_pass http://f; }
        location ~* \.(png|jpg)$ { proxy_pass http://g; }
        location @fallback { proxy_pass http://h; }
    }
    server {
        listen 80;
        server_name www.*;
        location / { proxy_pass http://i; }
    }
    server {
        listen 80;
        server_name ~^api\d+\.example\.com$;
        location / { proxy_pass http://j; }
    }
}
stream {
    server { listen 5432; proxy_pass db:5432; }
}
`

// TestLocationFor follows nginx's choice of location: exact, longest
// prefix refined inside it, ^~ stopping the search, then regular
// expressions, those inside the prefix first.
func TestLocationFor(t *testing.T) {
	p := planOf(t, matchConf)
	s := p.serverFor(80, "shop.example.com", false)
	for _, tc := range []struct{ uri, want string }{
		{"/", "http://a"},
		{"/exact", "http://b"},
		{"/exact/more", "http://a"},
		{"/api/x", "http://c"},
		{"/api/v2/x", "http://d"},
		{"/api/x.json", "http://e"},
		{"/static/x.png", "http://f"},
		{"/img/x.PNG", "http://g"},
		{"/fallback", "http://a"},
	} {
		loc := locationFor(s.Node, tc.uri)
		got := "none"
		if loc != nil {
			got = loc.Lookup("proxy_pass").Arg(0)
		}
		if got != tc.want {
			t.Errorf("%s: %s want %s", tc.uri, got, tc.want)
		}
	}
}

// TestServerFor follows nginx's choice of server: exact name, leading
// wildcard, trailing wildcard, regular expression, default_server.
func TestServerFor(t *testing.T) {
	p := planOf(t, matchConf)
	name := func(s *Server) string {
		if s == nil {
			return "none"
		}
		return fmt.Sprint(s.Names)
	}
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"shop.example.com", 80, "[shop.example.com *.shop.example.com]"},
		{"a.shop.example.com", 80, "[shop.example.com *.shop.example.com]"},
		{"www.example.org", 80, "[www.*]"},
		{"api7.example.com", 80, `[~^api\d+\.example\.com$]`},
		{"other.example", 80, "[_]"},
		{"shop.example.com", 81, "none"},
	} {
		if got := name(p.serverFor(tc.port, tc.host, false)); got != tc.want {
			t.Errorf("%s:%d: %s want %s", tc.host, tc.port, got, tc.want)
		}
	}
	if s := p.serverFor(5432, "", true); s == nil || !s.Stream {
		t.Errorf("stream :5432: %v, want the stream server", s)
	}
}
