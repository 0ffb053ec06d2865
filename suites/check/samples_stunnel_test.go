//go:build conformance

package check_test

import "github.com/sniproof/sniproof/check"

// stunnel's sample: an app host's client-mode tunnels, two of them broken
// the two ways stunnel breaks SNI (an IP connect sent as SNI, an empty
// sni =).
func init() {
	samples = append(samples, sample{"check/stunnel/tunnels", "stunnel", "fixtures/check/stunnel/stunnel.conf",
		"sniproof check runs a stunnel.conf unchanged: one plain HTTP request per client-mode service, through its accept port",
		"stunnel sends the host of connect as SNI, an IP literal included (RFC 6066 forbids it), and none for an empty sni =; a failed handshake closes the client's connection (issue 15)",
		[]sampleWant{
			{location: "service [api]", status: 200, sni: "api.internal.example"},
			{location: "service [billing]", status: 0, sni: "10.61.4.11", cause: check.CauseWrongName},
			{location: "service [search]", status: 0, sni: "", cause: check.CauseNoSNI},
			{location: "service [reports]", status: 200, sni: "reports.internal.example"},
			{location: "service [ledger]", status: 200, sni: "ledger.internal.example"},
			{location: "service [metrics]", status: 200, sni: "metrics.internal.example"},
		}})
}
