package check

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"golang.org/x/net/http2"
)

// send sends r to addr (the proxy's published port on this machine) and
// returns the status and body, or the error when there was no response.
// The TLS client accepts any certificate: the operator's, or a throwaway.
func send(ctx context.Context, addr string, r Request) (int, string, error) {
	if r.Scheme == "tcp" {
		return sendStream(ctx, addr, r)
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	tlsConf := &tls.Config{ServerName: r.Host, InsecureSkipVerify: true} //nolint:gosec // the proxy's own certificate is not under test
	var rt http.RoundTripper
	switch {
	case r.HTTP2 && r.Scheme == "https":
		tlsConf.NextProtos = []string{"h2"}
		rt = &http2.Transport{TLSClientConfig: tlsConf, DialTLSContext: func(ctx context.Context, network, a string, cfg *tls.Config) (net.Conn, error) {
			c, err := dial(ctx, network, a)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(c, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, err
			}
			return tc, nil
		}}
	case r.HTTP2:
		rt = &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, a string, _ *tls.Config) (net.Conn, error) {
			return dial(ctx, network, a)
		}}
	default:
		rt = &http.Transport{DialContext: dial, TLSClientConfig: tlsConf, DisableKeepAlives: true}
	}
	client := &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, r.Method, fmt.Sprintf("%s://%s%s", r.Scheme, r.Host, r.Path), nil)
	if err != nil {
		return 0, "", err
	}
	for name, value := range r.Headers {
		req.Header.Set(name, value)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(data), err
}

// sendStream opens a connection to a stream server (over TLS, with SNI
// r.Host, when r.TLS says it listens with ssl) and sends the bytes of
// an HTTP/1.1 GET, which the proxy relays to the upstream: the backend answers
// it once its TLS handshake with the proxy succeeded.
func sendStream(ctx context.Context, addr string, r Request) (int, string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(deadline)
	}
	if r.TLS {
		tc := tls.Client(c, &tls.Config{ServerName: r.Host, InsecureSkipVerify: true}) //nolint:gosec
		if err := tc.HandshakeContext(ctx); err != nil {
			return 0, "", err
		}
		c = tc
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if err == io.EOF || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") {
			return 0, "", fmt.Errorf("the proxy closed the connection without a response")
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(data), err
}
