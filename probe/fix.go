package probe

import (
	"net"
	"strconv"
)

// Fix is the configuration that makes one proxy send a name as SNI, as
// the matrix's cases show it (docs/PROXY.md names each proxy's knob).
type Fix struct {
	// Proxy is the proxy's name, e.g. "nginx".
	Proxy string `json:"proxy"`
	// Config is the configuration, one line per element.
	Config []string `json:"config"`
	// Note says where the lines go and when each one is needed.
	Note string `json:"note"`
}

// fixes are the configurations that make each proxy send name as SNI to
// host:port.
func fixes(name, host string, port int) []Fix {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	url := "https://" + name
	if port != 443 {
		url += ":" + strconv.Itoa(port)
	}
	return []Fix{
		{
			Proxy:  "nginx",
			Config: []string{"proxy_ssl_server_name on;", "proxy_ssl_name " + name + ";"},
			Note: "next to proxy_pass https://... (location, server or http). proxy_ssl_name is needed when proxy_pass names an IP address " +
				"or an upstream {} block; otherwise nginx sends the proxy_pass host. Stream: the same directives; gRPC: grpc_ssl_server_name, grpc_ssl_name.",
		},
		{
			Proxy:  "HAProxy",
			Config: []string{"server app " + addr + " ssl sni str(" + name + ") check check-sni " + name},
			Note:   "HAProxy before 3.3 sends no SNI, even to a host name; sni covers traffic, check-sni the health checks.",
		},
		{
			Proxy:  "Apache",
			Config: []string{"SSLProxyEngine on", "ProxyPass / " + url + "/", "ProxyPreserveHost Off"},
			Note: "Apache sends the ProxyPass host as SNI (never an IP address), so name the upstream " + name + ", resolving to " + host +
				"; with ProxyPreserveHost On it sends the client's Host instead, which the upstream must then serve.",
		},
		{
			Proxy: "Caddy",
			Config: []string{
				"reverse_proxy https://" + addr + " {",
				"\ttransport http {",
				"\t\ttls_server_name " + name,
				"\t}",
				"}",
			},
			Note: "Caddy sends the upstream's host, and nothing for an IP address; tls_server_name accepts placeholders.",
		},
		{
			Proxy: "Envoy",
			Config: []string{
				"transport_socket:",
				"  name: envoy.transport_sockets.tls",
				"  typed_config:",
				"    \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
				"    sni: " + name,
			},
			Note: "in the cluster; Envoy sends no SNI unless told. auto_sni: true in the cluster's upstream_http_protocol_options sends each request's Host instead.",
		},
		{
			Proxy: "Traefik",
			Config: []string{
				"http:",
				"  serversTransports:",
				"    upstream-sni:",
				"      serverName: " + name,
			},
			Note: "and serversTransport: upstream-sni on the service's loadBalancer; Traefik sends the URL host by default, and nothing for an IP address.",
		},
	}
}
