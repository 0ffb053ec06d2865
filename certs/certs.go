// Package certs makes a test certificate authority, optional intermediates
// and leaf certificates in memory, and writes them as PEM.
//
// Nothing here is meant for production: keys are ECDSA P-256, made fresh for
// every run, and never written anywhere but the folder a caller names.
package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// validity is how long every certificate made here is valid; runs are short.
const validity = 48 * time.Hour

// Authority is a certificate authority that can issue intermediates and leaves.
// A root authority has an empty Chain; an intermediate's Chain holds the
// certificates between it and the root, nearest first, excluding the root.
type Authority struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// Leaf is an end-entity certificate with its key and the intermediates a
// server must send with it (nearest first, root excluded).
type Leaf struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// NewCA makes a self-signed root authority with the given common name.
func NewCA(commonName string) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl, err := template(commonName)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	cert, err := sign(tmpl, tmpl, key, key)
	if err != nil {
		return nil, fmt.Errorf("sign CA %q: %w", commonName, err)
	}
	return &Authority{Cert: cert, Key: key}, nil
}

// Intermediate issues a subordinate authority signed by a.
func (a *Authority) Intermediate(commonName string) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate intermediate key: %w", err)
	}
	tmpl, err := template(commonName)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	cert, err := sign(tmpl, a.Cert, key, a.Key)
	if err != nil {
		return nil, fmt.Errorf("sign intermediate %q: %w", commonName, err)
	}
	return &Authority{Cert: cert, Key: key, Chain: a.chainBelowRoot()}, nil
}

// Leaf issues a server certificate for the given names. Each name that parses
// as an IP address becomes an IP SAN, every other name a DNS SAN; the first
// name is also the common name. At least one name is required.
func (a *Authority) Leaf(names ...string) (*Leaf, error) {
	if len(names) == 0 {
		return nil, errors.New("issue leaf: at least one name is required")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate leaf key: %w", err)
	}
	tmpl, err := template(names[0])
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	cert, err := sign(tmpl, a.Cert, key, a.Key)
	if err != nil {
		return nil, fmt.Errorf("sign leaf %q: %w", names[0], err)
	}
	return &Leaf{Cert: cert, Key: key, Chain: a.chainBelowRoot()}, nil
}

// chainBelowRoot is a's own certificate followed by its chain, or nothing
// when a is a root.
func (a *Authority) chainBelowRoot() []*x509.Certificate {
	if len(a.Chain) == 0 && isSelfSigned(a.Cert) {
		return nil
	}
	return append([]*x509.Certificate{a.Cert}, a.Chain...)
}

// CertPEM is the authority's own certificate in PEM.
func (a *Authority) CertPEM() []byte { return encodeCerts(a.Cert) }

// ChainPEM is the leaf followed by its intermediates, as a server sends them.
func (l *Leaf) ChainPEM() []byte {
	return encodeCerts(append([]*x509.Certificate{l.Cert}, l.Chain...)...)
}

// KeyPEM is the leaf's private key in PKCS #8 PEM.
func (l *Leaf) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// TLSCertificate is the leaf as crypto/tls wants it, intermediates included.
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{PrivateKey: l.Key, Leaf: l.Cert}
	c.Certificate = append(c.Certificate, l.Cert.Raw)
	for _, ic := range l.Chain {
		c.Certificate = append(c.Certificate, ic.Raw)
	}
	return c
}

// Pool is a certificate pool holding only the given authorities.
func Pool(cas ...*Authority) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}

// WriteFiles writes the leaf as NAME.crt (chain) and NAME.key (mode 0600) in dir.
func (l *Leaf) WriteFiles(dir, name string) error {
	key, err := l.KeyPEM()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), l.ChainPEM(), 0o644); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), key, 0o600); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	return nil
}

func encodeCerts(cs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range cs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func template(commonName string) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"sniproof test"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
	}, nil
}

func sign(tmpl, parent *x509.Certificate, key crypto.Signer, parentKey crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
