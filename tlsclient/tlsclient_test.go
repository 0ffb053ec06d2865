package tlsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sniproof/sniproof/certs"
)

// server is a TLS listener on 127.0.0.1 that serves name with a leaf of ca
// and records the SNI of every ClientHello; with sniOnly it refuses a
// ClientHello without SNI the way crypto/tls does: alert 80.
type server struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func (s *server) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func startServer(t *testing.T, ca *certs.Authority, name string, sniOnly bool) *server {
	t.Helper()
	leaf, err := ca.Leaf(name)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{leaf.TLSCertificate()},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			s.mu.Lock()
			s.seen = append(s.seen, hello.ServerName)
			s.mu.Unlock()
			if sniOnly && hello.ServerName == "" {
				return nil, errors.New("no SNI")
			}
			return nil, nil
		},
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	s.addr = l.Addr().String()
	return s
}

func writeCA(t *testing.T, ca *certs.Authority) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRun(t *testing.T) {
	ca, err := certs.NewCA("tlsclient test CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := writeCA(t, ca)
	strict := startServer(t, ca, "www.xx.test", true)
	lenient := startServer(t, ca, "www.xx.test", false)
	_, strictPort, _ := net.SplitHostPort(strict.addr)

	tests := []struct {
		name     string
		srv      *server
		opts     Options
		wantSNI  string
		ok       bool
		verified bool
		alert    int
		cn       string
	}{
		{"name forced over an IP is sent and verified", strict,
			Options{Connect: strict.addr, ServerName: "www.xx.test", CAFile: caFile}, "www.xx.test", true, true, 0, "www.xx.test"},
		{"an IP literal sends no SNI and the strict server answers alert 80", strict,
			Options{Connect: strict.addr, CAFile: caFile}, "", false, false, 80, ""},
		{"noservername sends no SNI", strict,
			Options{Connect: "127.0.0.1:" + strictPort, NoServerName: true, CAFile: caFile}, "", false, false, 80, ""},
		{"the default certificate of a lenient server fails name verification against an IP", lenient,
			Options{Connect: lenient.addr, CAFile: caFile}, "", false, false, 0, "www.xx.test"},
		{"noservername verifies the chain only", lenient,
			Options{Connect: lenient.addr, NoServerName: true, CAFile: caFile}, "", true, true, 0, "www.xx.test"},
		{"a name the certificate lacks fails verification", lenient,
			Options{Connect: lenient.addr, ServerName: "other.xx.test", CAFile: caFile}, "other.xx.test", false, false, 0, "www.xx.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.srv.names())
			res, err := Run(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok || res.Verified != tt.verified || res.Alert != tt.alert {
				t.Errorf("ok %v verified %v alert %d (%s), want %v %v %d", res.OK, res.Verified, res.Alert, res.Error, tt.ok, tt.verified, tt.alert)
			}
			if res.ServerName != tt.wantSNI {
				t.Errorf("result server_name %q want %q", res.ServerName, tt.wantSNI)
			}
			seen := tt.srv.names()
			if len(seen) != before+1 || seen[before] != tt.wantSNI {
				t.Errorf("server saw SNI %q since the call, want [%q]", seen[before:], tt.wantSNI)
			}
			cn := ""
			if res.Certificate != nil {
				cn = res.Certificate.CommonName
			}
			if cn != tt.cn {
				t.Errorf("certificate CN %q want %q", cn, tt.cn)
			}
			if !tt.ok && res.Error == "" {
				t.Error("a failed handshake has no error text")
			}
		})
	}
}

func TestRunOptions(t *testing.T) {
	for _, o := range []Options{
		{Connect: "no-port"},
		{Connect: "127.0.0.1:1", ServerName: "a.test", NoServerName: true},
		{Connect: "127.0.0.1:1", CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) = nil error, want one", o)
		}
	}
}
