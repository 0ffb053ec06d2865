package proxy

import (
	"cmp"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
)

// maxPools bounds the connection pools of one route: with "sni":
// "host-header", each Host header the clients send makes one. When a new
// name would pass the bound, the route closes its idle connections and
// starts over.
const maxPools = 64

// route is a Route ready to serve.
type route struct {
	name     string
	host     string // lower case, "*" for any
	prefix   string
	upstream *url.URL
	// rawUpstream is the upstream URL as configured, for the logs.
	rawUpstream string
	sniMode     string
	hostHeader  string
	roots       *x509.CertPool // nil when verification is off
	dialAddr    string
	timeouts    timeouts

	mu sync.Mutex
	// pools holds one transport per SNI name, so that a connection made
	// for one name never carries a request that needs another.
	pools map[string]*http.Transport
}

// newRoute prepares r, which is valid, reading its CA bundle.
func newRoute(r Route, t timeouts) (*route, error) {
	u, err := parseUpstream(r.Upstream)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	rt := &route{
		name:        r.name(),
		host:        strings.ToLower(hostOnly(r.Host)),
		prefix:      cmp.Or(r.Path, "/"),
		upstream:    u,
		rawUpstream: r.Upstream,
		sniMode:     r.SNI,
		hostHeader:  r.HostHeader,
		dialAddr:    r.Dial,
		timeouts:    t,
		pools:       make(map[string]*http.Transport),
	}
	if u.Scheme == "https" && r.Verify != verifyOff {
		pem, err := os.ReadFile(r.Verify)
		if err != nil {
			return nil, fmt.Errorf("verify: read CA bundle: %w", err)
		}
		rt.roots = x509.NewCertPool()
		if !rt.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("verify: no PEM certificate in %s", r.Verify)
		}
	}
	return rt, nil
}

// sni is the server name the route sends upstream for a request with this
// Host header; "" when none is sent, always so for http:// upstreams.
func (rt *route) sni(clientHost string) string {
	if rt.upstream.Scheme != "https" {
		return ""
	}
	return chooseSNI(rt.sniMode, rt.upstream.Host, clientHost)
}

// verifyName is the name the upstream's certificate must match on a
// connection that sends sni ("" for none).
func (rt *route) verifyName(sni string) string {
	return cmp.Or(sni, rt.upstream.Hostname())
}

// transport is the route's transport for connections that send sni,
// made on first use. Like Go's default transport it offers HTTP/2 to https
// upstreams; unlike it, it ignores the HTTP_PROXY family of variables.
func (rt *route) transport(sni string) *http.Transport {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if t := rt.pools[sni]; t != nil {
		return t
	}
	if len(rt.pools) >= maxPools {
		rt.closeIdleLocked()
		clear(rt.pools)
	}
	u := &upstreamTLS{
		sni:              sni,
		roots:            rt.roots,
		verifyName:       rt.verifyName(sni),
		dialAddr:         rt.dialAddr,
		dialTimeout:      rt.timeouts.dial,
		handshakeTimeout: rt.timeouts.tlsHandshake,
	}
	t := &http.Transport{
		DialContext:           u.dial,
		DialTLSContext:        u.dialTLS,
		ForceAttemptHTTP2:     true,
		ResponseHeaderTimeout: rt.timeouts.responseHeader,
		IdleConnTimeout:       rt.timeouts.idle,
		MaxIdleConnsPerHost:   32,
	}
	rt.pools[sni] = t
	return t
}

// closeIdle closes the idle upstream connections of the route.
func (rt *route) closeIdle() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.closeIdleLocked()
}

func (rt *route) closeIdleLocked() {
	for _, t := range rt.pools {
		t.CloseIdleConnections()
	}
}

// routeTable finds the route of a request.
type routeTable struct {
	byHost map[string][]*route // longest prefix first
	any    []*route            // routes of "*", longest prefix first
}

func newRouteTable(routes []*route) routeTable {
	t := routeTable{byHost: make(map[string][]*route)}
	for _, rt := range routes {
		if rt.host == "*" {
			t.any = append(t.any, rt)
		} else {
			t.byHost[rt.host] = append(t.byHost[rt.host], rt)
		}
	}
	longestFirst := func(a, b *route) int { return len(b.prefix) - len(a.prefix) }
	for _, rs := range t.byHost {
		slices.SortFunc(rs, longestFirst)
	}
	slices.SortFunc(t.any, longestFirst)
	return t
}

// match is the route for a Host header and a path, or nil.
func (t routeTable) match(host, path string) *route {
	for _, rs := range [][]*route{t.byHost[strings.ToLower(hostOnly(host))], t.any} {
		for _, rt := range rs {
			if strings.HasPrefix(path, rt.prefix) {
				return rt
			}
		}
	}
	return nil
}
