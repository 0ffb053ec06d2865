//go:build conformance

package check_test

import "github.com/sniproof/sniproof/check"

// h2o's sample: Debian's h2o.conf layout with two sites by !file, two of
// their paths broken the two ways h2o breaks them (an IP-literal URL sent
// as SNI, a path verified without proxy.ssl.cafile, against the default
// bundle Debian does not ship).
func init() {
	samples = append(samples, sample{"check/h2o/edge", "h2o", "fixtures/check/h2o/h2o.conf",
		"sniproof check runs an h2o.conf unchanged, its !file sites with it: one request per path with an https proxy.reverse.url, through the TLS listener of its host",
		"h2o always sends the host of proxy.reverse.url as SNI, an IP literal included (RFC 6066 forbids it), and verifies by default against a CA bundle Debian's package does not ship (issue 15)",
		[]sampleWant{
			{location: "host shop.example.com:443 path /", status: 200, sni: "storefront.internal.example"},
			{location: "host shop.example.com:443 path /api/", status: 200, sni: "api.internal.example"},
			{location: "host shop.example.com:443 path /search/", status: 502, sni: "10.79.4.20", cause: check.CauseWrongName},
			{location: "host shop.example.com:443 path /media/", status: 200, sni: "media.internal.example"},
			{location: "host billing.example.com:443 path /", status: 502, sni: "billing.internal.example", cause: check.CauseVerify},
		}})
}
