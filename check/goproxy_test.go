package check

import (
	"os"
	"testing"

	"github.com/sniproof/sniproof/lint"
)

// TestGoProxyRoutes: a Go proxy configuration's routes to https://
// upstreams, their targets (the dial address when one is set), and the
// route a request takes, as the proxy chooses it.
func TestGoProxyRoutes(t *testing.T) {
	data, err := os.ReadFile("../fixtures/check/goproxy/goproxy.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := lint.ParseGoProxy("goproxy.json", data)
	if err != nil {
		t.Fatal(err)
	}
	a := &goproxyAdapter{p: &gpPlan{cfg: cfg, data: data}}
	r := &runner{rep: &Report{}}
	a.plan(r)
	var got []string
	for _, g := range a.p.routes {
		for _, tg := range g.targets {
			got = append(got, g.Host+cmpPath(g.Path)+" "+tg.String())
		}
	}
	want := []string{"shop.example.com/ www.shop-cdn.example:443", "shop.example.com/api/ 10.20.0.11:8443",
		"shop.example.com/search/ search.internal.example:443", "admin.example.com/ 10.20.0.30:9443", "*/ tenants.internal.example:443"}
	if len(got) != len(want) {
		t.Fatalf("targets %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("target %d: %q, want %q", i, got[i], want[i])
		}
	}
	for _, tc := range []struct{ host, path, want string }{
		{"shop.example.com", "/api/v1", "shop.example.com/api/"},
		{"SHOP.example.com:8080", "/", "shop.example.com/"},
		{"other.example", "/x", "*/"},
		{"admin.example.com", "/search/", "admin.example.com/"},
	} {
		g := a.route(tc.host, tc.path)
		if g == nil || g.Host+cmpPath(g.Path) != tc.want {
			t.Errorf("route(%s, %s) = %v, want %s", tc.host, tc.path, g, tc.want)
		}
	}
	if port, scheme := a.frontend(r); port != 8080 || scheme != "http" {
		t.Errorf("frontend %d %s, want 8080 http", port, scheme)
	}
}
