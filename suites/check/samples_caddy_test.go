//go:build conformance

package check_test

import "github.com/sniproof/sniproof/check"

func init() {
	samples = append(samples,
		sample{"check/caddy/caddyfile", "caddy", "fixtures/check/caddy/Caddyfile",
			"sniproof check runs a Caddyfile unchanged: plaintext sites on two ports and an HTTPS one, handle blocks, a snippet, a wildcard site, IP upstreams with and without tls_server_name, a placeholder tls_server_name",
			"Caddy joins check with an adapter of its own: the routes come from caddy adapt's JSON, made by the image's caddy, each upstream impersonated at its own address, the run's CA in the system store Caddy verifies against and at the tls_trusted_ca_certs it names, a certificate from it in Caddy's storage for the HTTPS site (issue 15)",
			[]sampleWant{
				{location: "route partners.example.com:443 *", status: 200, sni: "partners.internal.example"},
				{location: "route admin.example.com:80 *", status: 200, sni: "admin-old.internal.example"},
				{location: "route shop.example.com:80 /search/*", status: 200, sni: "search.internal.example"},
				{location: "route shop.example.com:80 /api/*", status: 502, sni: "", cause: check.CauseNoSNI},
				{location: "route shop.example.com:80 *", status: 200, sni: "www.shop-cdn.example"},
				{location: "route *.tenants.example.com:80 *", status: 502, sni: "www.tenants.example.com", cause: check.CauseWrongName},
				{location: "route status.example.com:8080 *", status: 200, sni: "status.internal.example"},
			}},
		sample{"check/caddy/json", "caddy", "fixtures/check/caddy/caddy.json",
			"sniproof check runs Caddy's JSON unchanged: host and path matchers, an IP upstream with and without server_name, insecure_skip_verify",
			"Caddy's JSON is read as it is, without caddy adapt; the fix is a JSON member (issue 15)",
			[]sampleWant{
				{location: "route api.example.com:8080 /legacy/*", status: 200, sni: "legacy.internal.example"},
				{location: "route api.example.com:8080 *", status: 200, sni: "api.internal.example"},
				{location: "route files.example.com:8080 *", status: 502, sni: "", cause: check.CauseNoSNI},
			}})
}
