package backend

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// TestEventLogBounded pins that the in-memory log keeps only the last
// MaxKeptEvents events, numbered without gaps, and that since() filters them.
func TestEventLogBounded(t *testing.T) {
	l := newEventLog(nil, 0)
	for i := 0; i < MaxKeptEvents+5; i++ {
		name := "a"
		if i%2 == 1 {
			name = "b"
		}
		l.add(Event{Listener: name})
	}
	all := l.since("", 0)
	if len(all) != MaxKeptEvents {
		t.Fatalf("kept %d events, want %d", len(all), MaxKeptEvents)
	}
	if all[0].Seq != 6 || all[len(all)-1].Seq != MaxKeptEvents+5 {
		t.Errorf("kept seq %d..%d, want 6..%d", all[0].Seq, all[len(all)-1].Seq, MaxKeptEvents+5)
	}
	if got := l.since("b", int64(MaxKeptEvents)); len(got) != 2 {
		t.Errorf("since(b, %d) = %d events, want 2 (seq 10002 and 10004)", MaxKeptEvents, len(got))
	}
}

// TestPendingByPeer: a mark request counts the handshakes still under way
// of its own peer only, so that proxies running cases at once never wait
// for, or take, each other's events.
func TestPendingByPeer(t *testing.T) {
	h := start(t, Listener{Name: "strict", Names: []string{"www.xx.test"}}, Listener{Name: "mark", Plain: true})
	from := func(src string) *net.Dialer {
		return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	}
	// Peer A opens a TLS connection and sends no ClientHello: pending.
	hung, err := from("127.0.0.2").Dial("tcp", h.Addr("strict").String())
	if err != nil {
		t.Skipf("no second loopback address to dial from: %v", err)
	}
	defer hung.Close()
	deadline := time.Now().Add(3 * time.Second)
	for h.pendingHandshakes("127.0.0.2:1")["strict"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the hung connection is never pending")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mark := func(src, path string) Event {
		c := &http.Client{Transport: &http.Transport{DialContext: from(src).DialContext}}
		resp, err := c.Get("http://" + h.Addr("mark").String() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, e := range h.Events("mark", 0) {
			if e.Path == path {
				return e
			}
		}
		t.Fatalf("no event of %s", path)
		return Event{}
	}
	if got := mark("127.0.0.3", "/b").Pending; got != nil {
		t.Errorf("peer B's mark counts %v pending, want none: A's handshake is not B's", got)
	}
	if got := mark("127.0.0.2", "/a").Pending; got["strict"] != 1 {
		t.Errorf("peer A's mark counts %v pending, want strict: 1", got)
	}
}

// TestPendingBeforeAccept: a connection the kernel has completed counts
// pending at once, before the accept loop would have taken it, so that a
// proxy that opens a connection and answers its client at once (Apache
// without SSLProxyEngine) has it counted at the mark that follows.
func TestPendingBeforeAccept(t *testing.T) {
	h := start(t, Listener{Name: "strict", Names: []string{"www.xx.test"}})
	for i := 1; i <= 200; i++ {
		c, err := net.Dial("tcp", h.Addr("strict").String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := h.pendingHandshakes(c.LocalAddr().String())["strict"]; got != i {
			t.Fatalf("after connection %d, %d pending", i, got)
		}
	}
}
