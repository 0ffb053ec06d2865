//go:build conformance

package check_test

import "github.com/sniproof/sniproof/check"

func init() {
	samples = append(samples, sample{"check/nghttpx/edge", "nghttpx", "fixtures/check/nghttpx/nghttpx.conf",
		"sniproof check runs a Debian nghttpx.conf unchanged: host and path patterns, a wildcard host, an include, IP backends with and without sni=, a TLS frontend without its certificate",
		"nghttpx joins check with an adapter of its own: one request per pattern of the tls backends, each upstream impersonated at its own address, the run's CA at cacert=, a stand-in for the frontend's missing certificate (issue 15)",
		[]sampleWant{
			{location: "backend shop.example.com/", status: 200, sni: "www.shop-cdn.example"},
			{location: "backend shop.example.com/api/", status: 502, sni: "", cause: check.CauseNoSNI},
			{location: "backend admin.example.com/", status: 200, sni: "admin.internal.example"},
			{location: "backend *.tenants.example.com/", status: 502, sni: "", cause: check.CauseNoSNI},
			{location: "backend /billing/", status: 200, sni: "billing.internal.example"},
		}})
}
