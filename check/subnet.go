package check

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// subnet is a network that lets the backend take an upstream's address.
type subnet struct {
	Prefix  netip.Prefix
	Gateway netip.Addr
}

// candidates are the subnets in which the backend can take the address ip,
// smallest first (/29, which leaves room for the gateway, the backend and
// nginx, up to /24): each holds ip as a host address (neither the network
// nor the broadcast address) and none of the other addresses to
// impersonate, which need networks of their own.
func candidates(ip netip.Addr, others []netip.Addr) []subnet {
	var out []subnet
	for bits := 29; bits >= 24; bits-- {
		pfx, err := ip.Prefix(bits)
		if err != nil {
			continue
		}
		first, last := pfx.Addr(), lastAddr(pfx)
		if ip == first || ip == last {
			continue
		}
		clash := false
		for _, o := range others {
			if o != ip && pfx.Contains(o) {
				clash = true
			}
		}
		if clash {
			continue
		}
		gw := first.Next()
		if gw == ip {
			gw = gw.Next()
		}
		out = append(out, subnet{Prefix: pfx, Gateway: gw})
	}
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// unimpersonable says why the backend cannot take an upstream address, or
// "" when it can try.
func unimpersonable(host string) string {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return "it is not an IP address"
	}
	switch {
	case a.IsLoopback():
		// Taken inside the proxy's own network namespace.
		return ""
	case a.Is6() && !a.Is4In6():
		return "IPv6 upstreams are not impersonated (the run's networks are IPv4)"
	case a.IsUnspecified(), a.IsMulticast(), a.IsLinkLocalUnicast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "no container can take that address"
	}
	return ""
}

// route is an IPv4 route of this machine.
type route struct {
	Iface  string
	Prefix netip.Prefix
}

// hostRoutes reads this machine's IPv4 routes, the default route left
// out, from /proc/net/route; nil when it cannot.
func hostRoutes() []route {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []route
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		dst, err1 := hex.DecodeString(fields[1])
		mask, err2 := hex.DecodeString(fields[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		// /proc/net/route prints network-order addresses read as
		// little-endian numbers.
		d := netip.AddrFrom4([4]byte{dst[3], dst[2], dst[1], dst[0]})
		m := binary.BigEndian.Uint32(mask) // the printed value: network-order bytes read little-endian
		bits := 0
		for ; m&1 == 1; m >>= 1 {
			bits++
		}
		if bits == 0 {
			continue
		}
		out = append(out, route{Iface: fields[0], Prefix: netip.PrefixFrom(d, bits).Masked()})
	}
	return out
}

// routeClash names the route of this machine (not a Docker bridge's) that
// a subnet overlaps, or "": a network for it would take that traffic over
// while the check runs.
func routeClash(s netip.Prefix, routes []route) string {
	for _, r := range routes {
		if strings.HasPrefix(r.Iface, "docker") || strings.HasPrefix(r.Iface, "br-") || strings.HasPrefix(r.Iface, "veth") {
			continue
		}
		if r.Prefix.Overlaps(s) {
			return fmt.Sprintf("this machine reaches %s through %s, and a network for %s would take that traffic over while the check runs", r.Prefix, r.Iface, s)
		}
	}
	return ""
}

// groupBy24 groups addresses by their /24, in order.
func groupBy24(ips []netip.Addr) [][]netip.Addr {
	var out [][]netip.Addr
	index := map[netip.Prefix]int{}
	for _, ip := range ips {
		p, _ := ip.Prefix(24)
		i, ok := index[p]
		if !ok {
			i = len(out)
			index[p] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], ip)
	}
	return out
}

// groupSubnet is the smallest subnet, /29 to /24, holding every address of
// ips as a host address, with room for a gateway and the proxy besides.
func groupSubnet(ips []netip.Addr) (subnet, bool) {
	for bits := 29; bits >= 24; bits-- {
		pfx, err := ips[0].Prefix(bits)
		if err != nil {
			continue
		}
		first, last := pfx.Addr(), lastAddr(pfx)
		holds := true
		for _, ip := range ips {
			if !pfx.Contains(ip) || ip == first || ip == last {
				holds = false
			}
		}
		hosts := 1<<(32-bits) - 2
		if !holds || hosts < len(ips)+2 {
			continue
		}
		for gw := first.Next(); gw != last; gw = gw.Next() {
			if !slices.Contains(ips, gw) {
				return subnet{Prefix: pfx, Gateway: gw}, true
			}
		}
	}
	return subnet{}, false
}

// hostRange is where upstream host names get their addresses: the
// benchmarking range of RFC 2544, which no production network routes.
var hostRange = netip.MustParsePrefix("198.18.0.0/15")

// hostSubnetTries bounds the subnets tried for one host name: another run
// on the same engine may hold one.
const hostSubnetTries = 32

// hostSubnets returns a source of /29 subnets of hostRange, from a random
// start, that hold none of the addresses taken (IP upstreams) and clash
// with no route of this machine; ok is false when none is left.
func hostSubnets(taken []netip.Addr, routes []route) func() (subnet, bool) {
	const n = 1 << (32 - 15 - 3) // /29s in a /15
	start := uint32(rand.IntN(n))
	i := uint32(0)
	base := binary.BigEndian.Uint32(hostRange.Addr().AsSlice())
	return func() (subnet, bool) {
		for ; i < n; i++ {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], base+((start+i)%n)<<3)
			pfx := netip.PrefixFrom(netip.AddrFrom4(a), 29)
			if slices.ContainsFunc(taken, pfx.Contains) || routeClash(pfx, routes) != "" {
				continue
			}
			i++
			return subnet{Prefix: pfx, Gateway: pfx.Addr().Next()}, true
		}
		return subnet{}, false
	}
}

// hostAddrs lists host names with their addresses, sorted by name:
// "api.example 198.18.0.2, www.example 198.18.0.10".
func hostAddrs(m map[string]netip.Addr) string {
	var out []string
	for h, a := range m {
		out = append(out, h+" "+a.String())
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
