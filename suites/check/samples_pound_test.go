//go:build conformance

package check_test

import "github.com/sniproof/sniproof/check"

// pound's sample: a Debian /etc/pound routing by Host to HTTPS services,
// two of them without the ServerName pound needs to send SNI at all.
func init() {
	samples = append(samples, sample{"check/pound/services", "pound", "fixtures/check/pound",
		"sniproof check runs a pound.cfg unchanged: one request per Service with an HTTPS backend, by the Host it matches",
		"pound sends SNI only from ServerName, whatever the Address, a host name included, and verifies no certificate; a missing ServerName is a 503 (issue 15)",
		[]sampleWant{
			{location: `Service "shop"`, status: 200, sni: "origin.shop.internal.example"},
			{location: `Service "api"`, status: 503, sni: "", cause: check.CauseNoSNI},
			{location: `Service "search"`, status: 503, sni: "", cause: check.CauseNoSNI},
			{location: `Service "accounts"`, status: 200, sni: "accounts.internal.example"},
		}})
}
