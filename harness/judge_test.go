package harness

import (
	"reflect"
	"testing"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
)

func ptr[T any](v T) *T { return &v }

// TestJudge pins each way an observation can differ from an expectation,
// and that a matching observation passes.
func TestJudge(t *testing.T) {
	refused := Observation{Status: 502, Backend: fixtures.BackendRefused, Reason: "missing-sni", SNI: ptr(""),
		Events:   []backend.Event{{Kind: backend.KindRefused}},
		ProxyLog: []string{"[error] SSL_do_handshake() failed (SSL alert number 80) while SSL handshaking to upstream"}}
	tests := []struct {
		name string
		want fixtures.Expect
		obs  Observation
		diff []string
	}{
		{"match", fixtures.Expect{Status: 502, Backend: "refused", Reason: "missing", SNI: ptr(""), Log: []string{"SSL alert number 80)"}}, refused, nil},
		{"status", fixtures.Expect{Status: 200, Backend: "refused", SNI: ptr("")}, refused, []string{"status 502 want 200"}},
		{"client error", fixtures.Expect{Status: 200, Backend: "untouched"}, Observation{Backend: "untouched", Error: "EOF"},
			[]string{"status 0 (client error: EOF) want 200"}},
		{"sni", fixtures.Expect{Status: 502, Backend: "refused", SNI: ptr("www.xx.test")}, refused,
			[]string{`backend saw SNI "" want "www.xx.test"`}},
		{"no hello", fixtures.Expect{Status: 502, Backend: "refused", SNI: ptr("")}, Observation{Status: 502, Backend: "untouched"},
			[]string{"backend untouched the connection, want refused", `no ClientHello reached the backend, want SNI ""`}},
		{"reason", fixtures.Expect{Status: 502, Backend: "refused", Reason: "unknown-sni", SNI: ptr("")}, refused,
			[]string{`backend's reason "missing-sni" want "unknown-sni"`}},
		{"log", fixtures.Expect{Status: 502, Backend: "refused", SNI: ptr(""), Log: []string{"alert number 112)"}}, refused,
			[]string{`no log line has "alert number 112)"`}},
		{"untouched with events", fixtures.Expect{Status: 502, Backend: "untouched"}, Observation{Status: 502, Backend: "untouched", Events: []backend.Event{{}}},
			[]string{"1 backend event(s), want nothing to reach the backend"}},
		{"connections and resumed", fixtures.Expect{Status: 200, Backend: "served", SNI: ptr("a"), Connections: ptr(1), Resumed: ptr(true)},
			Observation{Status: 200, Backend: "served", SNI: ptr("a"), Connections: 2},
			[]string{"backend completed 2 handshake(s) want 1", "last session resumed false want true"}},
		{"alert line", fixtures.Expect{Status: 200, Backend: "served", SNI: ptr("a")},
			Observation{Status: 200, Backend: "served", SNI: ptr("a"), ProxyLog: []string{"2026/11/29 [alert] 1#1: worker exited"}},
			[]string{"logged 2026/11/29 [alert] 1#1: worker exited"}},
		{"config refused", fixtures.Expect{ConfigError: "no proxy_ssl_trusted_certificate"},
			Observation{ConfigTest: &ConfigTest{Exit: 1, Output: "[emerg] no proxy_ssl_trusted_certificate for proxy_ssl_verify"}}, nil},
		{"config accepted", fixtures.Expect{ConfigError: "x"}, Observation{ConfigTest: &ConfigTest{Exit: 0}},
			[]string{`the configuration test accepted the configuration, want it refused with "x"`}},
		{"config untested", fixtures.Expect{ConfigError: "x"}, Observation{},
			[]string{`the configuration was not tested, want it refused with "x"`}},
		{"config other message", fixtures.Expect{ConfigError: "x"}, Observation{ConfigTest: &ConfigTest{Exit: 1, Output: "y\n"}},
			[]string{`the configuration test said "y", want "x" in it`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Judge(tt.want, tt.obs); !reflect.DeepEqual(got, tt.diff) {
				t.Errorf("Judge = %q\nwant %q", got, tt.diff)
			}
		})
	}
}
