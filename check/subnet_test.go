package check

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestCandidates(t *testing.T) {
	a := netip.MustParseAddr
	for _, tc := range []struct {
		ip     string
		others []string
		want   string // the first candidate, subnet gateway
	}{
		{"10.20.0.30", nil, "10.20.0.24/29 10.20.0.25"},
		{"10.20.0.25", nil, "10.20.0.24/29 10.20.0.26"},
		{"10.20.0.24", nil, "10.20.0.16/28 10.20.0.17"}, // the /29's network address
		{"10.20.0.31", nil, "10.20.0.0/26 10.20.0.1"},   // the last of a /29, /28 and /27
		{"10.20.0.11", []string{"10.20.0.30"}, "10.20.0.8/29 10.20.0.9"},
		{"10.20.0.11", []string{"10.20.0.12"}, ""}, // one /29 to /24 holds both: none
	} {
		others := []netip.Addr{a(tc.ip)}
		for _, o := range tc.others {
			others = append(others, a(o))
		}
		cs := candidates(a(tc.ip), others)
		got := ""
		if len(cs) > 0 {
			got = cs[0].Prefix.String() + " " + cs[0].Gateway.String()
		}
		if got != tc.want {
			t.Errorf("%s with %v: %q want %q", tc.ip, tc.others, got, tc.want)
		}
	}
}

func TestUnimpersonable(t *testing.T) {
	for host, want := range map[string]string{
		"10.0.0.5":        "",
		"127.0.0.1":       "", // taken in the proxy's network namespace
		"[::1]":           "",
		"[2001:db8::1]":   "IPv6",
		"169.254.169.254": "no container",
		"0.0.0.0":         "no container",
	} {
		if got := unimpersonable(host); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q want %q", host, got, want)
		}
	}
}

func TestRouteClash(t *testing.T) {
	routes := []route{
		{"eth0", netip.MustParsePrefix("10.20.0.0/16")},
		{"docker0", netip.MustParsePrefix("172.17.0.0/16")},
	}
	if got := routeClash(netip.MustParsePrefix("10.20.0.24/29"), routes); !strings.Contains(got, "10.20.0.0/16 through eth0") {
		t.Errorf("clash with eth0: %q", got)
	}
	if got := routeClash(netip.MustParsePrefix("172.17.0.0/29"), routes); got != "" {
		t.Errorf("Docker's own bridge: %q, want none (Docker refuses overlaps itself)", got)
	}
}

func TestGroupSubnet(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	groups := groupBy24([]netip.Addr{a("10.0.0.5"), a("10.0.1.5"), a("10.0.0.6")})
	if len(groups) != 2 || len(groups[0]) != 2 || groups[0][1] != a("10.0.0.6") {
		t.Fatalf("groups %v", groups)
	}
	for _, tc := range []struct {
		ips     []netip.Addr
		want    string
		gateway string
	}{
		{[]netip.Addr{a("10.0.0.5"), a("10.0.0.6")}, "10.0.0.0/29", "10.0.0.1"},
		{[]netip.Addr{a("10.0.0.1"), a("10.0.0.2")}, "10.0.0.0/29", "10.0.0.3"},
		{[]netip.Addr{a("10.0.0.6"), a("10.0.0.9")}, "10.0.0.0/28", "10.0.0.1"},
		// a /29 has 6 hosts: 5 addresses leave no room for the proxy
		{[]netip.Addr{a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.3"), a("10.0.0.4"), a("10.0.0.5")}, "10.0.0.0/28", "10.0.0.6"},
		{[]netip.Addr{a("10.0.0.7"), a("10.0.0.8")}, "10.0.0.0/28", "10.0.0.1"},
	} {
		c, ok := groupSubnet(tc.ips)
		if !ok || c.Prefix.String() != tc.want || c.Gateway.String() != tc.gateway {
			t.Errorf("%v: %v %v, want %s gateway %s", tc.ips, c, ok, tc.want, tc.gateway)
		}
	}
	if _, ok := groupSubnet([]netip.Addr{a("10.0.0.0"), a("10.0.0.1")}); ok {
		t.Error("a /24's network address cannot be taken")
	}
}

// TestHostSubnets: the subnets for host names are distinct /29s of
// hostRange that hold no IP upstream and clash with no route.
func TestHostSubnets(t *testing.T) {
	taken := []netip.Addr{netip.MustParseAddr("198.18.0.3")}
	routes := []route{{"eth9", netip.MustParsePrefix("198.19.0.0/16")}}
	next := hostSubnets(taken, routes)
	seen := map[netip.Prefix]bool{}
	for range 200 {
		c, ok := next()
		if !ok {
			t.Fatal("ran out of subnets")
		}
		p := c.Prefix
		if p.Bits() != 29 || !hostRange.Contains(p.Addr()) || p.Contains(taken[0]) || routes[0].Prefix.Overlaps(p) || seen[p] {
			t.Fatalf("subnet %s: want a new /29 of %s without %s, not in %s", p, hostRange, taken[0], routes[0].Prefix)
		}
		if c.Gateway != p.Addr().Next() {
			t.Errorf("%s: gateway %s", p, c.Gateway)
		}
		seen[p] = true
	}
}

// TestDestination: the address a connection for each kind of upstream
// reaches, as the backend's events name it.
func TestDestination(t *testing.T) {
	r := &runner{hostAddr: map[string]netip.Addr{"api.example": netip.MustParseAddr("198.18.0.2")}}
	for _, c := range []struct {
		t    Target
		want string
	}{
		{Target{Host: "API.example", Port: 443}, "198.18.0.2:443"},
		{Target{Host: "10.20.0.11", Port: 8443, IP: true}, "10.20.0.11:8443"},
		{Target{Host: "[::1]", Port: 4098, IP: true}, "[::1]:4098"},
		{Target{Socket: "/run/app.sock"}, "/run/app.sock"},
		{Target{Host: "other.example", Port: 443}, ""},
	} {
		if got := r.destination(c.t); got != c.want {
			t.Errorf("%s: %q want %q", c.t, got, c.want)
		}
	}
}

// TestJoinGroup: 10.73.2.15 is the broadcast address of its /29 and /28,
// so it needs the /27, which holds 10.73.2.20's /29: .20 joins it, and
// the two share one network (a backend and a replica).
func TestJoinGroup(t *testing.T) {
	single := &impersonation{c: subnet{Prefix: netip.MustParsePrefix("10.73.2.16/29")}, ips: []netip.Addr{netip.MustParseAddr("10.73.2.20")}}
	other := &impersonation{c: subnet{Prefix: netip.MustParsePrefix("10.73.9.0/29")}, ips: []netip.Addr{netip.MustParseAddr("10.73.9.5")}}
	c, ips, rest, ok := joinGroup([]netip.Addr{netip.MustParseAddr("10.73.2.15")}, []*impersonation{single, other})
	if !ok || c.Prefix.String() != "10.73.2.0/27" {
		t.Fatalf("subnet %v (ok %v), want 10.73.2.0/27", c.Prefix, ok)
	}
	if got := fmt.Sprint(ips); got != "[10.73.2.15 10.73.2.20]" {
		t.Errorf("addresses %s, want [10.73.2.15 10.73.2.20]", got)
	}
	if len(rest) != 1 || rest[0] != other {
		t.Errorf("the plan keeps %v, want only 10.73.9.0/29", rest)
	}
}
