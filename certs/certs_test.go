package certs_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sniproof/sniproof/certs"
)

// issuerChain makes a root and n intermediates below it; it returns the root
// and the issuer the leaf is to come from (the root itself when n is 0),
// followed by the intermediates from the root downwards.
func issuerChain(t *testing.T, n int) (root, issuer *certs.Authority, inters []*certs.Authority) {
	t.Helper()
	root, err := certs.NewCA("test root")
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	issuer = root
	for i := range n {
		issuer, err = issuer.Intermediate("test intermediate " + string(rune('A'+i)))
		if err != nil {
			t.Fatalf("Intermediate %d: %v", i, err)
		}
		inters = append(inters, issuer)
	}
	return root, issuer, inters
}

// verifyOptions are the options a client verifying leaf for dnsName uses:
// the root pool and the intermediates the leaf carries.
func verifyOptions(root *certs.Authority, leaf *certs.Leaf, dnsName string) x509.VerifyOptions {
	inter := x509.NewCertPool()
	for _, c := range leaf.Chain {
		inter.AddCert(c)
	}
	return x509.VerifyOptions{
		Roots:         certs.Pool(root),
		Intermediates: inter,
		DNSName:       dnsName,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

// TestNewCA pins the root: a self-signed CA certificate with the given common
// name, allowed to sign certificates, with an empty chain and a CertPEM that
// decodes back to the same certificate.
func TestNewCA(t *testing.T) {
	root, err := certs.NewCA("my root")
	if err != nil {
		t.Fatal(err)
	}
	c := root.Cert
	if c.Subject.CommonName != "my root" {
		t.Errorf("CommonName = %q, want %q", c.Subject.CommonName, "my root")
	}
	if !c.IsCA || !c.BasicConstraintsValid {
		t.Errorf("IsCA = %v, BasicConstraintsValid = %v, want both true", c.IsCA, c.BasicConstraintsValid)
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("KeyUsage = %v, want CertSign", c.KeyUsage)
	}
	if !bytes.Equal(c.RawIssuer, c.RawSubject) || c.CheckSignatureFrom(c) != nil {
		t.Error("root is not self-signed")
	}
	if len(root.Chain) != 0 {
		t.Errorf("root Chain has %d certificates, want 0", len(root.Chain))
	}
	if now := time.Now(); now.Before(c.NotBefore) || now.After(c.NotAfter) {
		t.Errorf("root not valid now: %v .. %v", c.NotBefore, c.NotAfter)
	}
	block, rest := pem.Decode(root.CertPEM())
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("CertPEM is not one CERTIFICATE block: %q", root.CertPEM())
	}
	if !bytes.Equal(block.Bytes, c.Raw) {
		t.Error("CertPEM does not hold the root certificate")
	}
}

// TestIntermediate pins that an intermediate is a CA signed by its parent and
// that its Chain lists the authorities between it and the root, nearest
// first, root excluded.
func TestIntermediate(t *testing.T) {
	root, _, inters := issuerChain(t, 2)
	first, second := inters[0], inters[1]
	if !first.Cert.IsCA || !second.Cert.IsCA {
		t.Error("intermediates must be CAs")
	}
	if err := first.Cert.CheckSignatureFrom(root.Cert); err != nil {
		t.Errorf("first intermediate not signed by root: %v", err)
	}
	if err := second.Cert.CheckSignatureFrom(first.Cert); err != nil {
		t.Errorf("second intermediate not signed by first: %v", err)
	}
	if len(first.Chain) != 0 {
		t.Errorf("first intermediate Chain has %d certificates, want 0 (root excluded)", len(first.Chain))
	}
	if len(second.Chain) != 1 || !second.Chain[0].Equal(first.Cert) {
		t.Errorf("second intermediate Chain = %d certificates, want [first intermediate]", len(second.Chain))
	}
}

// TestLeafSANs pins how Leaf splits names: IP literals become IP SANs, every
// other name a DNS SAN, and the first name is the common name.
func TestLeafSANs(t *testing.T) {
	root, err := certs.NewCA("root")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		names   []string
		wantCN  string
		wantDNS []string
		wantIPs []string
	}{
		{[]string{"www.example.test"}, "www.example.test", []string{"www.example.test"}, nil},
		{[]string{"www.example.test", "127.0.0.1", "api.example.test", "::1"}, "www.example.test",
			[]string{"www.example.test", "api.example.test"}, []string{"127.0.0.1", "::1"}},
		{[]string{"10.0.0.2", "backend.test"}, "10.0.0.2", []string{"backend.test"}, []string{"10.0.0.2"}},
		{[]string{"*.wild.test"}, "*.wild.test", []string{"*.wild.test"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			leaf, err := root.Leaf(tt.names...)
			if err != nil {
				t.Fatal(err)
			}
			if got := leaf.Cert.Subject.CommonName; got != tt.wantCN {
				t.Errorf("CommonName = %q, want %q", got, tt.wantCN)
			}
			if !slices.Equal(leaf.Cert.DNSNames, tt.wantDNS) {
				t.Errorf("DNSNames = %q, want %q", leaf.Cert.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range leaf.Cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IPAddresses = %q, want %q", ips, tt.wantIPs)
			}
			if leaf.Cert.IsCA {
				t.Error("leaf must not be a CA")
			}
			if !slices.Contains(leaf.Cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
				t.Errorf("ExtKeyUsage = %v, want ServerAuth", leaf.Cert.ExtKeyUsage)
			}
		})
	}
}

// TestLeafNoNames pins that a leaf without any name is an error.
func TestLeafNoNames(t *testing.T) {
	root, err := certs.NewCA("root")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := root.Leaf()
	if err == nil || leaf != nil {
		t.Fatalf("Leaf() = %v, %v; want nil and an error", leaf, err)
	}
	if !strings.Contains(err.Error(), "at least one name") {
		t.Errorf("error %q does not say a name is required", err)
	}
}

// TestLeafChainOrder pins the chain a leaf carries under 0, 1 and 2
// intermediates: the intermediates nearest first, the root excluded, in
// Chain, ChainPEM and TLSCertificate alike.
func TestLeafChainOrder(t *testing.T) {
	for n := range 3 {
		t.Run(string(rune('0'+n))+" intermediates", func(t *testing.T) {
			root, issuer, inters := issuerChain(t, n)
			leaf, err := issuer.Leaf("www.example.test")
			if err != nil {
				t.Fatal(err)
			}
			// want: leaf, then intermediates from the leaf's issuer up.
			want := []*x509.Certificate{leaf.Cert}
			for i := len(inters) - 1; i >= 0; i-- {
				want = append(want, inters[i].Cert)
			}
			if len(leaf.Chain) != n {
				t.Fatalf("Chain has %d certificates, want %d", len(leaf.Chain), n)
			}
			for i, c := range leaf.Chain {
				if !c.Equal(want[i+1]) {
					t.Errorf("Chain[%d] = %q, want %q", i, c.Subject.CommonName, want[i+1].Subject.CommonName)
				}
				if c.Equal(root.Cert) {
					t.Errorf("Chain[%d] is the root", i)
				}
			}

			var pemCerts []*x509.Certificate
			rest := leaf.ChainPEM()
			for {
				var block *pem.Block
				block, rest = pem.Decode(rest)
				if block == nil {
					break
				}
				c, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				pemCerts = append(pemCerts, c)
			}
			if len(pemCerts) != len(want) {
				t.Fatalf("ChainPEM holds %d certificates, want %d", len(pemCerts), len(want))
			}
			for i := range want {
				if !pemCerts[i].Equal(want[i]) {
					t.Errorf("ChainPEM[%d] = %q, want %q", i, pemCerts[i].Subject.CommonName, want[i].Subject.CommonName)
				}
			}

			tc := leaf.TLSCertificate()
			if len(tc.Certificate) != len(want) {
				t.Fatalf("TLSCertificate holds %d certificates, want %d", len(tc.Certificate), len(want))
			}
			for i := range want {
				if !bytes.Equal(tc.Certificate[i], want[i].Raw) {
					t.Errorf("TLSCertificate.Certificate[%d] is not %q", i, want[i].Subject.CommonName)
				}
			}
			if tc.Leaf != leaf.Cert || tc.PrivateKey != leaf.Key {
				t.Error("TLSCertificate Leaf or PrivateKey is not the leaf's")
			}
		})
	}
}

// TestLeafVerify pins that a leaf verifies against the root pool with the
// intermediates it carries, for its own DNS name and IP, under 0, 1 and 2
// intermediates; and that a wrong name, a foreign root or (with
// intermediates) a missing chain fail.
func TestLeafVerify(t *testing.T) {
	for n := range 3 {
		t.Run(string(rune('0'+n))+" intermediates", func(t *testing.T) {
			root, issuer, _ := issuerChain(t, n)
			leaf, err := issuer.Leaf("www.example.test", "api.example.test", "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"www.example.test", "api.example.test", "127.0.0.1"} {
				chains, err := leaf.Cert.Verify(verifyOptions(root, leaf, name))
				if err != nil {
					t.Errorf("Verify(%q): %v", name, err)
					continue
				}
				if got := len(chains[0]); got != n+2 {
					t.Errorf("Verify(%q) chain length = %d, want %d", name, got, n+2)
				}
			}

			_, err = leaf.Cert.Verify(verifyOptions(root, leaf, "other.example.test"))
			var hostErr x509.HostnameError
			if !errors.As(err, &hostErr) {
				t.Errorf("Verify(wrong name) = %v, want a HostnameError", err)
			}

			other, err := certs.NewCA("other root")
			if err != nil {
				t.Fatal(err)
			}
			_, err = leaf.Cert.Verify(verifyOptions(other, leaf, "www.example.test"))
			var authErr x509.UnknownAuthorityError
			if !errors.As(err, &authErr) {
				t.Errorf("Verify(foreign root) = %v, want an UnknownAuthorityError", err)
			}

			if n > 0 {
				opts := verifyOptions(root, leaf, "www.example.test")
				opts.Intermediates = nil
				if _, err := leaf.Cert.Verify(opts); err == nil {
					t.Error("Verify without the intermediates succeeded; the chain is not needed?")
				}
			}
		})
	}
}

// TestKeyPEM pins that KeyPEM is one PKCS #8 PRIVATE KEY block whose key
// matches the certificate's public key, and that it pairs with ChainPEM.
func TestKeyPEM(t *testing.T) {
	_, issuer, _ := issuerChain(t, 1)
	leaf, err := issuer.Leaf("www.example.test")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := leaf.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("KeyPEM is not one PRIVATE KEY block: %q", keyPEM)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("ParsePKCS8PrivateKey: %v", err)
	}
	ek, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("key is %T, want *ecdsa.PrivateKey", key)
	}
	if !ek.PublicKey.Equal(leaf.Cert.PublicKey) {
		t.Error("KeyPEM's public key does not match the certificate's")
	}
	pair, err := tls.X509KeyPair(leaf.ChainPEM(), keyPEM)
	if err != nil {
		t.Fatalf("X509KeyPair(ChainPEM, KeyPEM): %v", err)
	}
	if len(pair.Certificate) != 2 {
		t.Errorf("X509KeyPair holds %d certificates, want 2", len(pair.Certificate))
	}
}

// TestTLSHandshake pins that TLSCertificate serves a real TLS handshake on
// 127.0.0.1: a client trusting only the root and naming the leaf's DNS name
// connects, sees the leaf and its intermediate, and the server sees the SNI;
// a client naming another server fails.
func TestTLSHandshake(t *testing.T) {
	root, issuer, _ := issuerChain(t, 1)
	leaf, err := issuer.Leaf("www.example.test")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverCfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}

	type result struct {
		sni string
		err error
	}
	serve := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				ch <- result{err: err}
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			s := tls.Server(c, serverCfg)
			err = s.Handshake()
			if err == nil {
				_, err = s.Write([]byte("hello\n"))
			}
			ch <- result{sni: s.ConnectionState().ServerName, err: err}
		}()
		return ch
	}
	dial := func(serverName string) (*tls.Conn, error) {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
		if err != nil {
			return nil, err
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		tc := tls.Client(c, &tls.Config{RootCAs: certs.Pool(root), ServerName: serverName})
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}

	done := serve()
	tc, err := dial("www.example.test")
	if err != nil {
		t.Fatalf("handshake for www.example.test: %v", err)
	}
	msg, err := io.ReadAll(io.LimitReader(tc, 6))
	tc.Close()
	if err != nil || string(msg) != "hello\n" {
		t.Errorf("read = %q, %v; want %q", msg, err, "hello\n")
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) != 2 || !st.PeerCertificates[0].Equal(leaf.Cert) || !st.PeerCertificates[1].Equal(leaf.Chain[0]) {
		t.Errorf("client saw %d peer certificates, want the leaf and its intermediate", len(st.PeerCertificates))
	}
	if r := <-done; r.err != nil || r.sni != "www.example.test" {
		t.Errorf("server: SNI %q, err %v; want www.example.test, nil", r.sni, r.err)
	}

	done = serve()
	if tc, err := dial("wrong.example.test"); err == nil {
		tc.Close()
		t.Error("handshake for wrong.example.test succeeded")
	} else {
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Errorf("handshake for wrong.example.test: %v, want a HostnameError", err)
		}
	}
	if r := <-done; r.err == nil {
		t.Error("server handshake succeeded although the client rejected the certificate")
	}
}

// TestWriteFiles pins that WriteFiles writes NAME.crt (the chain as
// ChainPEM) and NAME.key (KeyPEM, mode 0600) that load as a key pair, and
// that it fails for a folder that does not exist.
func TestWriteFiles(t *testing.T) {
	_, issuer, _ := issuerChain(t, 2)
	leaf, err := issuer.Leaf("www.example.test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := leaf.WriteFiles(dir, "server"); err != nil {
		t.Fatal(err)
	}
	crt, key := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	gotCrt, err := os.ReadFile(crt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotCrt, leaf.ChainPEM()) {
		t.Error("server.crt is not ChainPEM")
	}
	gotKey, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(gotKey); block == nil || block.Type != "PRIVATE KEY" {
		t.Errorf("server.key is not a PRIVATE KEY PEM block: %q", gotKey)
	}
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("server.key mode = %v, want 0600", perm)
	}
	pair, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatalf("LoadX509KeyPair: %v", err)
	}
	if len(pair.Certificate) != 3 {
		t.Errorf("server.crt holds %d certificates, want 3 (leaf and two intermediates)", len(pair.Certificate))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("WriteFiles wrote %d files, want 2", len(entries))
	}

	if err := leaf.WriteFiles(filepath.Join(dir, "missing"), "server"); err == nil {
		t.Error("WriteFiles into a missing folder succeeded")
	}
}

// TestPool pins that Pool trusts exactly the authorities it is given.
func TestPool(t *testing.T) {
	a, err := certs.NewCA("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := certs.NewCA("b")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := a.Leaf("x.test")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cas  []*certs.Authority
		ok   bool
	}{
		{"issuer", []*certs.Authority{a}, true},
		{"both", []*certs.Authority{b, a}, true},
		{"other", []*certs.Authority{b}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: certs.Pool(tt.cas...), DNSName: "x.test"})
			if (err == nil) != tt.ok {
				t.Errorf("Verify = %v, want success %v", err, tt.ok)
			}
		})
	}
}
