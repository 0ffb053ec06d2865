package report_test

import (
	"time"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
)

func str(s string) *string { return &s }

func intp(n int) *int { return &n }

// eventTime is a fixed time for the backend events of the sample run.
var eventTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// nginxConfig is a rendered configuration of one case, as evidence shows it.
const nginxConfig = `server {
    listen 8080;
    server_name default-hostname.common.test;
    location / {
        proxy_pass https://www.xx.test;
    }
}`

// sampleRecords is a realistic run over four proxy versions with every
// verdict: an SNI of "" (none sent), a nil SNI (no ClientHello), backend
// events, a configuration test, an infrastructure failure, a skip, an XFAIL
// and an XPASS. Sorted, the records are:
//
//	0 common/default-hostname   h2o 2.2.6       XFAIL
//	1 common/default-hostname   nginx 1.22.1    PASS   (SNI "")
//	2 common/default-hostname   nginx 1.26.3    FAIL   (SNI www.xx.test)
//	3 common/ip-default         h2o 2.2.6       XPASS
//	4 common/sni-enabled        haproxy 2.6.12  FAIL   (SNI nil)
//	5 common/sni-enabled        nginx 1.22.1    PASS
//	6 common/sni-enabled        nginx 1.26.3    PASS
//	7 h2o/config/refused        h2o 2.2.6       PASS   (config test)
//	8 nginx/refusal/hang-off    nginx 1.26.3    FAIL   (not judged)
//	9 nginx/seed/no-server-name nginx 1.22.1    SKIP   (not run)
//
// The slice is returned in an order other than the sorted one.
func sampleRecords() []report.Record {
	nginx := func(version, release string, r report.Record) report.Record {
		r.Suite, r.Proxy, r.Version, r.Release = "proxies", "nginx", version, release
		r.Image = "sniproof/nginx:" + release + "-0123456789ab"
		if r.Evidence.Reproduce == "" {
			r.Evidence.Reproduce = "make conformance FOCUS='" + r.ID + "' LABELS='nginx && " + release + "'"
		}
		return r
	}
	h2o := func(r report.Record) report.Record {
		r.Suite, r.Proxy, r.Version, r.Release = "proxies", "h2o", "2.2.6", "bookworm"
		r.Image = "sniproof/h2o:bookworm-fedcba987654"
		r.Evidence.Reproduce = "make conformance FOCUS='" + r.ID + "' LABELS='h2o && bookworm'"
		return r
	}
	refusedNoSNI := fixtures.Expect{Status: 502, Backend: "refused", Reason: "missing-sni", SNI: str(""),
		Log: []string{"SSL alert number 80)", "while SSL handshaking to upstream"}}
	served := fixtures.Expect{Status: 200, Backend: "served", SNI: str("www.xx.test"), Connections: intp(1)}
	refusedObs := func() *harness.Observation {
		return &harness.Observation{
			Responses: []harness.Response{{Host: "default-hostname.common.test", Status: 502}},
			Status:    502, Backend: "refused", Reason: "missing-sni", SNI: str(""),
			Events: []backend.Event{{Seq: 7, Time: eventTime, Listener: "alert80", Kind: backend.KindRefused,
				Conn: 3, Remote: "172.18.0.3:40112", SNI: "", Reason: backend.ReasonMissingSNI, Alert: 80}},
			ProxyLog: []string{`2026/03/01 12:00:00 [crit] 7#7: *3 SSL_do_handshake() failed (SSL: error:0A000438:SSL routines::tlsv1 alert internal error:SSL alert number 80) while SSL handshaking to upstream`},
			Duration: "1.5s",
		}
	}
	servedObs := func() *harness.Observation {
		return &harness.Observation{
			Responses: []harness.Response{{Host: "sni-enabled.common.test", Status: 200, Body: `{"sni":"www.xx.test"}`}},
			Status:    200, Backend: "served", SNI: str("www.xx.test"), Connections: 1,
			Events: []backend.Event{
				{Seq: 8, Time: eventTime, Listener: "alert80", Kind: backend.KindHandshake, Conn: 4, SNI: "www.xx.test", TLSVersion: "TLS 1.3"},
				{Seq: 9, Time: eventTime, Listener: "alert80", Kind: backend.KindRequest, Conn: 4, SNI: "www.xx.test", Host: "www.xx.test", Method: "GET", Path: "/", Status: 200},
			},
			ProxyLog: []string{},
			Duration: "250ms",
		}
	}
	defaultHostname := report.Record{ID: "common/default-hostname",
		Name:     "the default configuration sends no SNI to a hostname upstream that requires it",
		Expected: refusedNoSNI,
		Evidence: report.Evidence{Reason: "the field report; proxy_ssl_server_name is off by default", Source: "fixtures/nginx/cases.yaml:45", Config: nginxConfig}}
	sniEnabled := report.Record{ID: "common/sni-enabled", Name: "the proxy's SNI knob sends the upstream host",
		Expected: served, Evidence: report.Evidence{Reason: "the field report's fix", Source: "fixtures/nginx/cases.yaml:53"}}

	var out []report.Record

	// 8: an infrastructure failure during the case: not judged, no SNI.
	hang := report.Record{ID: "nginx/refusal/hang-off", Name: "nginx gives up on an upstream that never answers",
		Expected: fixtures.Expect{Status: 504, Backend: "failed", Reason: "hang", SNI: str("")},
		Observed: &harness.Observation{Status: 0, Error: "context deadline exceeded", Backend: "untouched", Duration: "30s"},
		Verdict:  report.Fail, Judged: false,
		Failure:  "synchronise with nginx 1.26.3: the mark did not reach the backend\nwithin 10s",
		Evidence: report.Evidence{Reason: "proxy_ssl_handshake_timeout", Source: "fixtures/nginx/cases.yaml:420"}}
	out = append(out, nginx("1.26.3", "trixie", hang))

	// 1: passes, no SNI sent.
	r := defaultHostname
	r.Observed, r.Verdict, r.Judged = refusedObs(), report.Pass, true
	out = append(out, nginx("1.22.1", "bookworm", r))

	// 2: fails: the newer version sends SNI.
	r = defaultHostname
	r.Observed, r.Verdict, r.Judged = servedObs(), report.Fail, true
	r.Observed.Responses[0].Host = "default-hostname.common.test"
	r.Differences = []string{"status 200 want 502", "backend served the connection, want refused", `SNI "www.xx.test", want none`}
	r.Failure = "nginx 1.26.3: common/default-hostname GET http://default-hostname.common.test/: differences"
	out = append(out, nginx("1.26.3", "trixie", r))

	// 0: h2o fails the way the ledger expects.
	r = defaultHostname
	r.Evidence.Source = "fixtures/h2o/cases.yaml:12"
	r.Evidence.Config = "proxy.reverse.url: https://www.xx.test/"
	r.Observed, r.Verdict, r.Judged = servedObs(), report.XFail, true
	r.Differences = []string{"status 200 want 502"}
	r.Ledger = "h2o always sends SNI; https://github.com/h2o/h2o/issues/0000"
	out = append(out, h2o(r))

	// 5, 6: pass on both nginx versions.
	for _, v := range [][2]string{{"1.26.3", "trixie"}, {"1.22.1", "bookworm"}} {
		r = sniEnabled
		r.Observed, r.Verdict, r.Judged = servedObs(), report.Pass, true
		out = append(out, nginx(v[0], v[1], r))
	}

	// 4: haproxy never reached the backend: no ClientHello at all.
	r = sniEnabled
	r.Suite, r.Proxy, r.Version, r.Release, r.Image = "proxies", "haproxy", "2.6.12", "bookworm", "sniproof/haproxy:bookworm-aaaaaaaaaaaa"
	r.Evidence.Reproduce = "make conformance FOCUS='common/sni-enabled' LABELS='haproxy && bookworm'"
	r.Observed = &harness.Observation{Responses: []harness.Response{{Host: "sni-enabled.common.test", Status: 503}},
		Status: 503, Backend: "untouched", SNI: nil, ProxyLog: []string{"[WARNING] backend be_sni has no server available!"}, Duration: "12ms"}
	r.Verdict, r.Judged = report.Fail, true
	r.Differences = []string{"status 503 want 200", "backend untouched the connection, want served", "no ClientHello reached the backend, want SNI \"www.xx.test\""}
	out = append(out, r)

	// 7: a configuration the proxy must refuse, checked with its config test.
	out = append(out, h2o(report.Record{ID: "h2o/config/refused", Name: "h2o refuses an upstream URL without a host",
		Expected: fixtures.Expect{ConfigError: "failed to parse URL"},
		Observed: &harness.Observation{ConfigTest: &harness.ConfigTest{Exit: 1, Output: "[h2o] failed to parse URL: https:///\n"}, Duration: "80ms"},
		Verdict:  report.Pass, Judged: true,
		Evidence: report.Evidence{Reason: "h2o's configurator", Source: "fixtures/h2o/cases.yaml:30", Config: "proxy.reverse.url: https:///"}}))

	// 9: skipped, never run.
	out = append(out, nginx("1.22.1", "bookworm", report.Record{ID: "nginx/seed/no-server-name",
		Name:     "nginx without proxy_ssl_server_name answers 502 when the upstream requires SNI",
		Expected: refusedNoSNI, Verdict: report.Skip, Failure: "skipped: nginx 1.22.1 did not start",
		Evidence: report.Evidence{Reason: "the field report", Source: "fixtures/nginx/cases.yaml:19"}}))

	// 3: passes although the ledger expects a failure.
	r = report.Record{ID: "common/ip-default", Name: "an IP upstream gets no SNI",
		Expected: fixtures.Expect{Status: 502, Backend: "refused", SNI: str("")},
		Verdict:  report.XPass, Judged: true,
		Ledger:   "h2o sent SNI to IP literals before 2.3",
		Failure:  "h2o 2.2.6: common/ip-default: XPASS: passes, but fixtures/ledger.yaml:7 expects it to fail",
		Evidence: report.Evidence{Reason: "RFC 6066 section 3: literal IP addresses are not permitted in server_name", Source: "fixtures/h2o/cases.yaml:20"}}
	r.Observed = refusedObs()
	out = append(out, h2o(r))
	return out
}

// sampleIDs are the sample's records as "id proxy version verdict", sorted.
var sampleIDs = []string{
	"common/default-hostname h2o 2.2.6 XFAIL",
	"common/default-hostname nginx 1.22.1 PASS",
	"common/default-hostname nginx 1.26.3 FAIL",
	"common/ip-default h2o 2.2.6 XPASS",
	"common/sni-enabled haproxy 2.6.12 FAIL",
	"common/sni-enabled nginx 1.22.1 PASS",
	"common/sni-enabled nginx 1.26.3 PASS",
	"h2o/config/refused h2o 2.2.6 PASS",
	"nginx/refusal/hang-off nginx 1.26.3 FAIL",
	"nginx/seed/no-server-name nginx 1.22.1 SKIP",
}

// sampleDoc is the document of the sample run, as one suite, collected as
// the whole run.
func sampleDoc() report.Document {
	d := report.Build([]report.Suite{{Suite: "proxies", Records: sampleRecords()}})
	d.Shards = []string{"all"}
	return d
}

// describe is a record as "id proxy version verdict".
func describe(r report.Record) string {
	return r.ID + " " + r.Proxy + " " + r.Version + " " + r.Verdict
}
