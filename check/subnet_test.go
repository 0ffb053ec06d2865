package check

import (
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
		"127.0.0.1":       "loopback",
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
