//go:build conformance

package check_test

import "github.com/sniproof/sniproof/check"

// Traffic Server's sample: a Debian /etc/trafficserver in front of HTTPS
// origins, for plain-HTTP and TLS clients: one origin reached by its IP
// address without a name, one whose rule keeps the client's Host, which
// then goes out as SNI, one that forwards the TLS client's own SNI.
func init() {
	samples = append(samples, sample{"check/trafficserver/edge", "trafficserver", "fixtures/check/trafficserver",
		"sniproof check runs a Debian /etc/trafficserver unchanged: remap rules with conf_remap overrides, an IP origin with and without sni_policy @NAME, pristine_host_hdr with sni_policy host and remap, client_sni_policy server_name in sni.yaml for TLS clients, a regex_map, ENFORCED verification, ssl_multicert certificates it lacks",
		"Traffic Server joins check with an adapter of its own: one request per remap rule to an https:// origin (plain HTTP, or TLS for a rule of https:// clients), each origin impersonated at its own address, the run's CA in the system store (issue 15)",
		[]sampleWant{
			{location: "map http://www.media.example/", status: 200, sni: "web-origin.media.example"},
			{location: "map https://www.media.example/", status: 200, sni: "web-origin.media.example"},
			{location: "map http://api.media.example/", status: 200, sni: "api-origin.media.example"},
			{location: "map http://img.media.example/", status: 502, sni: "", cause: check.CauseNoSNI},
			{location: "map http://shop.media.example/", status: 502, sni: "shop.media.example", cause: check.CauseWrongName},
			{location: "map http://media.example/live/", status: 200, sni: "live-origin.media.example"},
			{location: "map https://partners.media.example/", status: 502, sni: "partners.media.example", cause: check.CauseWrongName},
			{location: `regex_map http://([a-z0-9-]+)\.cdn\.media\.example/`, status: 200, sni: "cdn-origin.media.example"},
		}})
}
