package harness

import (
	"strings"
	"testing"

	"github.com/sniproof/sniproof/backend"
)

// Outputs below are trimmed from real runs of the bookworm clients.
const (
	curlOK = `*   Trying 192.168.176.2:443...
* Server certificate:
*  subject: O=sniproof test; CN=www.xx.test
*  issuer: O=sniproof test; CN=sniproof run c667d0eae8d9
*  SSL certificate verify ok.
`
	curlMismatch = `* Server certificate:
*  subject: O=sniproof test; CN=lenient.xx.test
*  subjectAltName does not match 192.168.176.2
* SSL: no alternative certificate subject name matches target host name '192.168.176.2'
curl: (60) SSL: no alternative certificate subject name matches target host name '192.168.176.2'
More details here: https://curl.se/docs/sslcerts.html
`
	curlAlert = `*   Trying 192.168.176.2:443...
curl: (35) OpenSSL/3.0.20: error:0A000438:SSL routines::tlsv1 alert internal error
`
	wgetOK = `HTTP request sent, awaiting response... 
  HTTP/1.1 200 OK
  Content-Type: application/json
`
	wgetAlert = `Connecting to 192.168.176.2:443... connected.
GnuTLS: A TLS fatal alert has been received.
GnuTLS: received alert [80]: Internal error
Unable to establish SSL connection.
`
	opensslOK = `CONNECTED(00000003)
---
Certificate chain
 0 s:O = sniproof test, CN = www.xx.test
   i:O = sniproof test, CN = sniproof run c667d0eae8d9
---
subject=O = sniproof test, CN = www.xx.test
issuer=O = sniproof test, CN = sniproof run c667d0e
`
	opensslAlertOut = `CONNECTED(00000003)
---
no peer certificate available
---
`
	opensslAlertErr = "80BB5961EB7F0000:error:0A000438:SSL routines:ssl3_read_bytes:tlsv1 alert internal error:../ssl/record/rec_layer_s3.c:1601:SSL alert number 80\n"
	gnutlsMismatch  = "Connecting to '192.168.176.2:8444'...\n- Certificate[0] info:\n - subject `CN=lenient.xx.test,O=sniproof test', issuer `CN=sniproof run c667d0eae8d9,O=sniproof test', serial 0x57\n" +
		"- Status: The certificate is NOT trusted. The name in the certificate does not match the expected. \n*** PKI verification of server certificate failed...\n"
	gnutlsAlert = "Connecting to '192.168.176.3:8443'...\n*** Received alert [112]: The server name sent was not recognized\n"
)

func TestParseClientOutput(t *testing.T) {
	tests := []struct {
		name, format, stdout, stderr string
		want                         ClientOutput
		errHas                       []string
	}{
		{"curl served", OutputCurl, "sniproof-status=200\n", curlOK, ClientOutput{Status: 200, Cert: "www.xx.test"}, nil},
		{"curl name mismatch", OutputCurl, "sniproof-status=000\n", curlMismatch, ClientOutput{Cert: "lenient.xx.test"},
			[]string{"curl: (60)", "no alternative certificate subject name matches"}},
		{"curl alert", OutputCurl, "sniproof-status=000\n", curlAlert, ClientOutput{}, []string{"curl: (35)", "tlsv1 alert internal error"}},
		{"wget served", OutputWget, "", wgetOK, ClientOutput{Status: 200}, nil},
		{"wget alert", OutputWget, "", wgetAlert, ClientOutput{}, []string{"received alert [80]", "Unable to establish SSL connection."}},
		{"openssl served", OutputOpenSSL, opensslOK, "depth=0 O = sniproof test, CN = www.xx.test\nverify return:1\nDONE\n", ClientOutput{Cert: "www.xx.test"}, nil},
		{"openssl alert", OutputOpenSSL, opensslAlertOut, opensslAlertErr, ClientOutput{}, []string{"SSL alert number 80", "no peer certificate available"}},
		{"gnutls name mismatch", OutputGnuTLS, gnutlsMismatch, "*** Fatal error: Error in the certificate.\n", ClientOutput{Cert: "lenient.xx.test"},
			[]string{"does not match the expected", "*** Fatal error: Error in the certificate."}},
		{"gnutls alert", OutputGnuTLS, gnutlsAlert, "*** Fatal error: A TLS fatal alert has been received.\n", ClientOutput{}, []string{"Received alert [112]"}},
		{"json script", OutputJSON, "warning first\n" + `{"status": 200, "cert": "b.front.test", "error": ""}` + "\n", "", ClientOutput{Status: 200, Cert: "b.front.test"}, nil},
		{"json tlsclient alert", OutputJSON, `{"connect":"192.0.2.1:443","server_name":"","ok":false,"alert":80,"alert_text":"internal error","verified":false,"error":"remote error: tls: internal error"}` + "\n", "",
			ClientOutput{}, []string{"tls: internal error (alert 80)"}},
		{"json tlsclient certificate", OutputJSON, `{"ok":true,"certificate":{"cn":"www.xx.test"},"verified":true}`, "", ClientOutput{Cert: "www.xx.test"}, nil},
		{"json missing", OutputJSON, "", "Traceback (most recent call last):\nImportError: boom\n", ClientOutput{}, []string{"ImportError: boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClientOutput(tt.format, tt.stdout, tt.stderr)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want.Status || got.Cert != tt.want.Cert {
				t.Errorf("status %d cert %q, want %d %q", got.Status, got.Cert, tt.want.Status, tt.want.Cert)
			}
			if len(tt.errHas) == 0 && got.Error != "" {
				t.Errorf("error %q, want none", got.Error)
			}
			for _, p := range tt.errHas {
				if !strings.Contains(got.Error, p) {
					t.Errorf("error %q lacks %q", got.Error, p)
				}
			}
		})
	}
	if _, err := ParseClientOutput("lynx", "", ""); err == nil {
		t.Error("an unknown format parses")
	}
	if _, err := ParseClientOutput(OutputJSON, "{not json", ""); err == nil {
		t.Error("broken JSON parses")
	}
}

func TestCN(t *testing.T) {
	for in, want := range map[string]string{
		"O = sniproof test, CN = www.xx.test":    "www.xx.test",
		"O=sniproof test; CN=www.xx.test":        "www.xx.test",
		"CN=lenient.xx.test,O=sniproof test":     "lenient.xx.test",
		"/O=sniproof test/CN=a.front.test":       "a.front.test",
		"O = sniproof test, OU = no common name": "",
	} {
		if got := cn(in); got != want {
			t.Errorf("cn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJudgeClient(t *testing.T) {
	sni := func(s string) *string { return &s }
	obs := ClientObservation{Exit: 1, Error: "SSL alert number 80 | no peer certificate available", Stdout: "CONNECTED", SNI: sni("")}
	want := ClientExpect{Exit: 1, SNI: "", Error: []string{"SSL alert number 80"}, Output: []string{"CONNECTED"}}
	if d := JudgeClient(want, obs); len(d) != 0 {
		t.Errorf("matching observation: %q", d)
	}
	want = ClientExpect{Exit: 0, Status: 200, SNI: "www.xx.test", Cert: "www.xx.test", Error: []string{"alert number 112"}, Output: []string{"Certificate chain"}}
	d := JudgeClient(want, obs)
	for _, p := range []string{"exit 1 (SSL alert number 80", "HTTP status 0 want 200", `server saw SNI "" want "www.xx.test"`,
		`certificate none want "www.xx.test"`, `lacks "alert number 112"`, `standard output lacks "Certificate chain"`} {
		if !strings.Contains(strings.Join(d, "\n"), p) {
			t.Errorf("differences %q lack %q", d, p)
		}
	}
	obs.SNI = nil
	if d := JudgeClient(ClientExpect{Exit: 1, Error: []string{"80"}, Output: []string{"CONNECTED"}}, obs); len(d) != 1 || !strings.Contains(d[0], "no ClientHello reached the server") {
		t.Errorf("no connection: %q", d)
	}
}

// TestObserveAttribution pins how a command's backend events are found:
// only those from the client's address, on connections no earlier command
// had, and complete once a handshake ended and, for an HTTP client, a
// request was answered.
func TestObserveAttribution(t *testing.T) {
	c := &ClientContainer{IP: "10.0.0.5", attributed: map[uint64]bool{7: true}}
	events := []backend.Event{
		{Seq: 1, Kind: backend.KindRequest, Conn: 7, Remote: "10.0.0.5:1000"},                   // an earlier command's late request
		{Seq: 2, Kind: backend.KindHandshake, Conn: 9, Remote: "10.0.0.55:1000", SNI: "x.test"}, // another address
		{Seq: 3, Kind: backend.KindHandshake, Conn: 8, Remote: "10.0.0.5:1001", SNI: "www.xx.test"},
	}
	var obs ClientObservation
	if done := obs.backend(events, c, true); done {
		t.Error("an HTTP client's case is complete before its request")
	}
	if done := obs.backend(events, c, false); !done || len(obs.Events) != 1 || obs.Events[0].Conn != 8 || obs.SNI == nil || *obs.SNI != "www.xx.test" || obs.Backend != "served" {
		t.Errorf("handshake-only client: done %v, events %+v, SNI %v, backend %s", done, obs.Events, obs.SNI, obs.Backend)
	}
	events = append(events, backend.Event{Seq: 4, Kind: backend.KindRequest, Conn: 8, Remote: "10.0.0.5:1001", SNI: "www.xx.test"})
	if done := obs.backend(events, c, true); !done || len(obs.Events) != 2 {
		t.Errorf("HTTP client after its request: done %v, events %+v", done, obs.Events)
	}
	refused := []backend.Event{{Seq: 5, Kind: backend.KindRefused, Conn: 10, Remote: "10.0.0.5:1002", Reason: backend.ReasonMissingSNI}}
	if done := obs.backend(refused, c, false); !done || obs.Backend != "refused" || obs.SNI == nil || *obs.SNI != "" {
		t.Errorf("refused: done %v backend %s SNI %v", done, obs.Backend, obs.SNI)
	}
}

func TestObserveFront(t *testing.T) {
	lines := []string{
		`2026/11/29 02:29:18 [info] 30#30: *1 client 127.0.0.1 closed keepalive connection`,
		`sniproof-sni remote=10.0.0.55 port=443 sni="x.test"`,
		`sniproof-sni remote=10.0.0.5 port=8443 sni=""`,
	}
	var obs ClientObservation
	if !obs.front(lines, "10.0.0.5") || obs.SNI == nil || *obs.SNI != "" || len(obs.ServerLog) != 3 {
		t.Errorf("SNI %v, log %q", obs.SNI, obs.ServerLog)
	}
	if obs.front(lines[:2], "10.0.0.5") || obs.SNI != nil {
		t.Errorf("another address's line was taken: SNI %v", obs.SNI)
	}
}
