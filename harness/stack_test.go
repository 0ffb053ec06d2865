package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
)

// TestClassify pins how a case's backend events are summed up: the first
// refused or failed handshake decides, else a completed one means served,
// else untouched; the SNI is that of the first event that read a
// ClientHello, nil when none did (a not-TLS failure reads none).
func TestClassify(t *testing.T) {
	ev := func(kind, sni, reason string) backend.Event {
		return backend.Event{Kind: kind, SNI: sni, Reason: reason}
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name       string
		events     []backend.Event
		outcome    string
		reason     string
		sni        *string
		wantNilSNI bool
	}{
		{"nothing", nil, fixtures.BackendUntouched, "", nil, true},
		{"refused without SNI", []backend.Event{ev("refused", "", "missing-sni")}, fixtures.BackendRefused, "missing-sni", str(""), false},
		{"refused unknown name", []backend.Event{ev("refused", "other.test", "unknown-sni")}, fixtures.BackendRefused, "unknown-sni", str("other.test"), false},
		{"failed handshake", []backend.Event{ev("failed", "www.xx.test", "tls: bad certificate")}, fixtures.BackendFailed, "tls: bad certificate", str("www.xx.test"), false},
		{"handshake and request", []backend.Event{ev("handshake", "www.xx.test", ""), ev("request", "www.xx.test", "")}, fixtures.BackendServed, "", str("www.xx.test"), false},
		{"only not-tls", []backend.Event{ev("failed", "", "not-tls")}, fixtures.BackendFailed, "not-tls", nil, true},
		{"request only", []backend.Event{ev("request", "", "")}, fixtures.BackendServed, "", nil, true},
		{"refused then served", []backend.Event{ev("refused", "", "missing-sni"), ev("handshake", "www.xx.test", ""), ev("request", "", "")}, fixtures.BackendRefused, "missing-sni", str(""), false},
		{"served then refused", []backend.Event{ev("handshake", "a.test", ""), ev("refused", "", "missing-sni")}, fixtures.BackendRefused, "missing-sni", str("a.test"), false},
		{"first failure decides", []backend.Event{ev("failed", "a.test", "tls: x"), ev("refused", "", "missing-sni")}, fixtures.BackendFailed, "tls: x", str("a.test"), false},
		{"not-tls then handshake", []backend.Event{ev("failed", "", "not-tls"), ev("handshake", "b.test", "")}, fixtures.BackendFailed, "not-tls", str("b.test"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome, reason, sni := classify(tt.events)
			if outcome != tt.outcome || reason != tt.reason {
				t.Errorf("classify = %q, %q; want %q, %q", outcome, reason, tt.outcome, tt.reason)
			}
			switch {
			case tt.wantNilSNI && sni != nil:
				t.Errorf("sni = %q, want nil", *sni)
			case !tt.wantNilSNI && (sni == nil || *sni != *tt.sni):
				t.Errorf("sni = %v, want %q", sni, *tt.sni)
			}
		})
	}
}

// TestAlertLines pins that only [alert] and [emerg] lines are picked, in
// order.
func TestAlertLines(t *testing.T) {
	lines := []string{
		"2026/01/01 00:00:00 [error] 7#7: *2 SSL_do_handshake() failed",
		"2026/01/01 00:00:00 [alert] 7#7: worker process exited",
		"__sniproof_mark /__sniproof/mark/1",
		"2026/01/01 00:00:00 [emerg] 1#1: unknown directive",
		"2026/01/01 00:00:00 [warn] alert in the text is not a level",
	}
	want := []string{lines[1], lines[3]}
	if got := AlertLines(lines); !slices.Equal(got, want) {
		t.Errorf("AlertLines = %q, want %q", got, want)
	}
	if got := AlertLines(lines[:1]); got != nil {
		t.Errorf("AlertLines without alerts = %q, want nil", got)
	}
}

// TestWithoutPushes pins that a case's log lines lose only the lines of
// pushes, which a buffered log writes in the next case's time, in order.
func TestWithoutPushes(t *testing.T) {
	lines := []string{
		"GET http://172.18.0.2:8000" + PushPath + "xxxx HTTP/1.1 host=127.0.0.1:8080 status=200 retries=0 ",
		"GET https://www.xx.test/ HTTP/1.1 host=www.xx.test status=200 retries=0 ",
		"[Dec  3 15:45:20.695] [ET_NET 1] DEBUG: <SSLNetVConnection.cc> (ssl-diag) SSL alert number 80",
	}
	if got, want := withoutPushes(lines), lines[1:]; !slices.Equal(got, want) {
		t.Errorf("withoutPushes = %q, want %q", got, want)
	}
	if got := withoutPushes(nil); got == nil || len(got) != 0 {
		t.Errorf("withoutPushes(nil) = %#v, want an empty list", got)
	}
}

// TestKindPushes pins the contract of Kind.Pushes: every push path starts
// with PushPath, so that its line is dropped from the cases' logs and the
// configuration proxies it to the mark listener.
func TestKindPushes(t *testing.T) {
	for _, name := range KindNames() {
		for _, path := range kinds[name].Pushes {
			if !strings.HasPrefix(path, PushPath) {
				t.Errorf("%s: push path %.40q does not start with %s", name, path, PushPath)
			}
		}
	}
}

// TestBackendEvents pins that BackendContainer.Events reads the JSON event
// lines of the backend's log from an index on, skipping other lines,
// malformed JSON and objects without a sequence number.
func TestBackendEvents(t *testing.T) {
	b := &BackendContainer{Log: NewLogBook()}
	b.Log.write("stderr", []byte("sniproof backend: ready, 2 listeners\n"))
	b.Log.write("stdout", []byte(`{"seq":1,"listener":"alert80","kind":"refused","reason":"missing-sni"}`+"\n"))
	b.Log.write("stdout", []byte("{not json\n"))
	b.Log.write("stdout", []byte(`{"listener":"x"}`+"\n"))
	b.Log.write("stdout", []byte(`{"seq":2,"listener":"mark","kind":"request","path":"/__sniproof/mark/t"}`+"\n"))

	all := b.Events(0)
	if len(all) != 2 || all[0].Seq != 1 || all[0].Kind != "refused" || all[0].Reason != "missing-sni" || all[1].Path != "/__sniproof/mark/t" {
		t.Errorf("Events(0) = %+v, want the two events", all)
	}
	if later := b.Events(2); len(later) != 1 || later[0].Seq != 2 {
		t.Errorf("Events(2) = %+v, want event 2 only", later)
	}
	if none := b.Events(5); len(none) != 0 {
		t.Errorf("Events(5) = %+v, want none", none)
	}
}

// TestInfraError pins that IsInfra sees an InfraError through wrapping, and
// the error's text and unwrapping.
func TestInfraError(t *testing.T) {
	cause := errors.New("no engine")
	ie := &InfraError{Op: "connect to Docker", Err: cause}
	if ie.Error() != "connect to Docker: no engine" {
		t.Errorf("Error() = %q", ie.Error())
	}
	if !errors.Is(ie, cause) {
		t.Error("InfraError does not unwrap to its cause")
	}
	tests := []struct {
		err  error
		want bool
	}{
		{ie, true},
		{fmt.Errorf("start suite: %w", ie), true},
		{errors.Join(errors.New("other"), ie), true},
		{cause, false},
		{fmt.Errorf("start suite: %v", ie), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsInfra(tt.err); got != tt.want {
			t.Errorf("IsInfra(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestCaseEvents pins the case's window of backend events: its listener's
// events before the mark, plus the final events of the handshakes the mark
// reported as still under way, which may be logged after the mark.
func TestCaseEvents(t *testing.T) {
	b := &BackendContainer{Log: NewLogBook()}
	st := &Stack{Backend: b, Timeouts: Timeouts{Sync: 2 * time.Second}}
	line := func(s string) { b.Log.write("stdout", []byte(s+"\n")) }
	line(`{"seq":1,"listener":"alert80","kind":"handshake","sni":"a"}`)
	line(`{"seq":2,"listener":"other","kind":"handshake"}`)
	line(`{"seq":3,"listener":"mark","kind":"request","path":"/m","pending":{"alert80":1}}`)
	mark := b.Events(0)[2]

	done := make(chan []backend.Event, 1)
	go func() { done <- st.caseEvents(context.Background(), 0, mark, "alert80") }()
	line(`{"seq":4,"listener":"alert80","kind":"failed","reason":"bad certificate"}`)
	line(`{"seq":5,"listener":"alert80","kind":"handshake","sni":"late, not the case's"}`)
	got := <-done
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 4 {
		t.Fatalf("caseEvents = %+v, want events 1 and 4", got)
	}

	// Nothing pending: only the events before the mark, at once.
	mark.Pending = nil
	if got := st.caseEvents(context.Background(), 0, mark, "alert80"); len(got) != 1 || got[0].Seq != 1 {
		t.Errorf("caseEvents without pending = %+v, want event 1", got)
	}
}
