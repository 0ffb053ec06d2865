package main

import (
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"testing"
)

// TestTLSClient pins the exit codes of sniproof tlsclient: usage errors are
// 64, a failed handshake is 1 with its JSON on stdout.
func TestTLSClient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close() // a bare close, no TLS at all
		}
	}()
	defer l.Close()

	for _, tt := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no connect", nil, 64, "--connect HOST:PORT is required"},
		{"both names", []string{"--connect", l.Addr().String(), "--servername", "a.test", "--noservername"}, 64, "exclude each other"},
		{"no port", []string{"--connect", "a.test"}, 64, "want HOST:PORT"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runTLSClient(tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.err) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tt.name, code, stderr.String(), tt.code, tt.err)
		}
	}

	var stdout, stderr bytes.Buffer
	code := runTLSClient([]string{"--connect", l.Addr().String(), "--servername", "www.xx.test"}, &stdout, &stderr)
	var res struct {
		ServerName string `json:"server_name"`
		OK         bool   `json:"ok"`
		Error      string `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("stdout %q is not JSON: %v", stdout.String(), err)
	}
	if code != 1 || res.OK || res.Error == "" || res.ServerName != "www.xx.test" {
		t.Errorf("closed connection: exit %d, %+v; want exit 1, not ok, an error, server_name www.xx.test", code, res)
	}
}
