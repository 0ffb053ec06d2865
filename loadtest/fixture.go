package loadtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/certs"
)

const (
	// upstreamName is the one name the backend serves, standing for the
	// field report's www.xx.com.
	upstreamName = "www.xx.test"
	// listenerName names the backend's only listener.
	listenerName = "alert80"
)

// pki is the run's certificates: a fresh CA and the backend's leaf.
type pki struct {
	caPEM           []byte
	pool            *x509.CertPool
	certPEM, keyPEM string
}

func newPKI() (*pki, error) {
	ca, err := certs.NewCA("sniproof load CA")
	if err != nil {
		return nil, fmt.Errorf("make certificates: %w", err)
	}
	leaf, err := ca.Leaf(upstreamName)
	if err != nil {
		return nil, fmt.Errorf("make certificates: %w", err)
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		return nil, fmt.Errorf("make certificates: %w", err)
	}
	return &pki{
		caPEM:   ca.CertPEM(),
		pool:    certs.Pool(ca),
		certPEM: string(leaf.ChainPEM()),
		keyPEM:  string(key),
	}, nil
}

// clientConfig is the TLS configuration of a client that sends sni, or
// no SNI when sni is "". Without SNI there is no name to verify; the
// backend must refuse before sending a certificate anyway. No ALPN is
// offered, so an accepted connection speaks HTTP/1.1.
func (p *pki) clientConfig(sni string) *tls.Config {
	if sni == "" {
		return &tls.Config{InsecureSkipVerify: true}
	}
	return &tls.Config{ServerName: sni, RootCAs: p.pool}
}

// startBackend starts a backend on loopback with one listener that serves
// upstreamName and refuses anything else with alert 80. Its event lines
// are discarded; it keeps up to keep events in memory, enough for the
// counts of a run (its default bound is lower).
func startBackend(p *pki, keep int) (*backend.Server, error) {
	srv, err := backend.New(&backend.Config{
		Control:    "127.0.0.1:0",
		KeepEvents: keep,
		Listeners: []backend.Listener{{
			Name:    listenerName,
			Addr:    "127.0.0.1:0",
			Names:   []string{upstreamName},
			Refuse:  backend.RefuseAlert80,
			CertPEM: p.certPEM,
			KeyPEM:  p.keyPEM,
		}},
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("make backend: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("cannot listen on loopback: %w", err)
	}
	return srv, nil
}

// checkAnswer checks a response of the backend, possibly through the
// proxy: 200 with the backend's JSON showing SNI upstreamName. It reads
// the body to its end, so that the connection can be reused, but does not
// close it.
func checkAnswer(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d, want 200", resp.StatusCode)
	}
	var seen backend.Seen
	if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
		return fmt.Errorf("decode the backend's answer: %w", err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read the backend's answer: %w", err)
	}
	if seen.SNI != upstreamName {
		return fmt.Errorf("the backend saw SNI %q, want %q", seen.SNI, upstreamName)
	}
	return nil
}
