package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/sniproof/sniproof/tlsclient"
)

// runTLSClient makes one TLS handshake and prints it as one JSON line:
// the SNI offered, the TLS version, the alert the server sent, the
// certificate it presented and whether it verified. It exits 0 when the
// handshake and the verification succeed, 1 when either fails.
func runTLSClient(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("tlsclient", stderr)
	connect := fs.String("connect", "", "`HOST:PORT` to dial (required)")
	serverName := fs.String("servername", "", "`name` to offer as SNI and verify against (default: the host of --connect; an IP address is never sent)")
	noServerName := fs.Bool("noservername", false, "offer no SNI; verify the certificate chain only")
	caFile := fs.String("cafile", "", "PEM `file` of CAs to trust instead of the system's")
	timeout := fs.Duration("timeout", 10*time.Second, "bound on the dial and the handshake")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *connect == "" {
		fmt.Fprintln(stderr, "sniproof tlsclient: --connect HOST:PORT is required")
		return exitUsage
	}
	res, err := tlsclient.Run(context.Background(), tlsclient.Options{
		Connect: *connect, ServerName: *serverName, NoServerName: *noServerName, CAFile: *caFile, Timeout: *timeout,
	})
	if err != nil {
		fmt.Fprintf(stderr, "sniproof tlsclient: %v\n", err)
		return exitUsage
	}
	data, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(data))
	if !res.OK {
		return 1
	}
	return exitOK
}
