package proxy

import "testing"

// TestChooseSNI pins the name each mode sends: IP literals never, ports and
// brackets stripped, letter case kept, trailing dots dropped as crypto/tls
// drops them on the wire.
func TestChooseSNI(t *testing.T) {
	tests := []struct {
		mode, upstream, client string
		want                   string
	}{
		{"auto", "www.xx.test", "shop.test", "www.xx.test"},
		{"", "www.xx.test", "shop.test", "www.xx.test"},
		{"auto", "www.xx.test:8443", "", "www.xx.test"},
		{"auto", "WWW.XX.Test", "", "WWW.XX.Test"},
		{"auto", "www.xx.test.", "", "www.xx.test"},
		{"auto", "www.xx.test.:443", "", "www.xx.test"},
		{"auto", "backend", "", "backend"},
		{"auto", "127.0.0.1", "", ""},
		{"auto", "127.0.0.1:443", "", ""},
		{"auto", "[2001:db8::1]", "", ""},
		{"auto", "[2001:db8::1]:443", "", ""},
		{"auto", "[fe80::1%eth0]:443", "", ""},
		{"auto", "", "shop.test", ""},
		{"off", "www.xx.test", "shop.test", ""},
		{"off", "www.xx.test:443", "", ""},
		{"host-header", "www.xx.test", "shop.test", "shop.test"},
		{"host-header", "www.xx.test", "shop.test:8080", "shop.test"},
		{"host-header", "www.xx.test", "Shop.Test.", "Shop.Test"},
		{"host-header", "www.xx.test", "10.0.0.1:8080", ""},
		{"host-header", "www.xx.test", "[::1]:8080", ""},
		{"host-header", "www.xx.test", "::1", ""},
		{"host-header", "www.xx.test", "", ""},
		{"name:api.internal.test", "127.0.0.1:443", "shop.test", "api.internal.test"},
		{"name:API.Internal.Test.", "www.xx.test", "", "API.Internal.Test"},
	}
	for _, tt := range tests {
		if got := chooseSNI(tt.mode, tt.upstream, tt.client); got != tt.want {
			t.Errorf("chooseSNI(%q, %q, %q) = %q, want %q", tt.mode, tt.upstream, tt.client, got, tt.want)
		}
	}
}

// TestRouteMatch pins routing: Host without port and case, the longest
// prefix of the host's own routes, then the routes of "*".
func TestRouteMatch(t *testing.T) {
	var routes []*route
	for _, r := range []Route{
		{Host: "www.shop.test"},
		{Host: "www.shop.test", Path: "/api"},
		{Host: "www.shop.test", Path: "/api/v2"},
		{Host: "*", Path: "/static"},
		{Host: "*", Path: "/"},
		{Host: "only.test", Path: "/x"},
	} {
		r.Upstream = "http://upstream.test"
		rt, err := newRoute(r, timeouts{})
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, rt)
	}
	table := newRouteTable(routes)
	tests := []struct {
		host, path, want string
	}{
		{"www.shop.test", "/", "www.shop.test/"},
		{"WWW.Shop.Test:8080", "/api/v1", "www.shop.test/api"},
		{"www.shop.test", "/api/v2/x", "www.shop.test/api/v2"},
		{"www.shop.test", "/static/x", "www.shop.test/"},
		{"other.test", "/static/x", "*/static"},
		{"other.test", "/", "*/"},
		{"", "/", "*/"},
		{"only.test", "/x/y", "only.test/x"},
		{"only.test", "/y", "*/"},
	}
	for _, tt := range tests {
		got := "no route"
		if rt := table.match(tt.host, tt.path); rt != nil {
			got = rt.name
		}
		if got != tt.want {
			t.Errorf("match(%q, %q) = %s, want %s", tt.host, tt.path, got, tt.want)
		}
	}
	if rt := newRouteTable(routes[:3]).match("other.test", "/"); rt != nil {
		t.Errorf("match without a * route = %s, want none", rt.name)
	}
}

// TestLogValue pins the quoting of log values.
func TestLogValue(t *testing.T) {
	for in, want := range map[string]string{
		"/x?a=b":          "/x?a=b",
		"www.shop.test:8": "www.shop.test:8",
		"":                `""`,
		"a b":             `"a b"`,
		`a"b`:             `"a\"b"`,
		"a\nb":            `"a\nb"`,
		"\xff":            `"\xff"`,
	} {
		if got := value(in); got != want {
			t.Errorf("value(%q) = %s, want %s", in, got, want)
		}
	}
}
