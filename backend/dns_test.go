package backend

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestDNSServer: Go's own resolver, over UDP and over TCP, gets the
// impersonated hosts' addresses and NXDOMAIN for other names, and every
// query is an event naming what was asked.
func TestDNSServer(t *testing.T) {
	addr := freeAddr(t)
	s, err := New(&Config{Control: "127.0.0.1:0", Listeners: []Listener{{Name: "x", Addr: "127.0.0.1:0", Plain: true}},
		DNS: []DNSServer{{Addr: addr, Hosts: map[string]string{"api.internal.example": "198.18.0.2"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, network := range []string{"udp", "tcp"} {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		ips, err := r.LookupHost(ctx, "API.internal.example")
		if err != nil || strings.Join(ips, ",") != "198.18.0.2" {
			t.Errorf("%s: %q, %v; want 198.18.0.2", network, ips, err)
		}
		if _, err := r.LookupHost(ctx, "other.example"); err == nil || !strings.Contains(err.Error(), "no such host") {
			t.Errorf("%s: other.example: %v, want no such host", network, err)
		}
		cancel()
	}
	asked := map[string]bool{}
	for _, e := range s.Events("", 0) {
		if e.Kind == KindDNS {
			asked[e.Host+" "+e.Reason] = true
		}
	}
	if !asked["api.internal.example 198.18.0.2"] || !asked["other.example nxdomain"] {
		t.Errorf("DNS events %v", asked)
	}
}

// TestAnswerDNSMalformed: a query that cannot be parsed gets FORMERR or,
// too short for a header, nothing; it never panics.
func TestAnswerDNSMalformed(t *testing.T) {
	if resp, _, _ := answerDNS([]byte{1, 2, 3}, nil); resp != nil {
		t.Errorf("a 3-byte query got %v", resp)
	}
	q := []byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'x'}
	resp, _, answer := answerDNS(q, nil)
	if len(resp) != 12 || resp[3]&0x0f != rcodeFormat || resp[0] != 0xab || answer != "malformed" {
		t.Errorf("truncated query: %v %q", resp, answer)
	}
}

func FuzzAnswerDNS(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', 'p', 'i', 0, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, msg []byte) {
		resp, _, _ := answerDNS(msg, map[string]string{"api": "198.18.0.2"})
		if resp != nil && len(resp) < 12 {
			t.Errorf("response shorter than a header: %v", resp)
		}
	})
}

// freeAddr is a loopback address whose UDP and TCP port 0 picked is free.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
