package backend

import (
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the FuzzParseClientHello seed corpus from live ClientHellos")

// captureHello returns the first bytes a crypto/tls client with cfg sends:
// its ClientHello records.
func captureHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	client, server := net.Pipe()
	defer server.Close()
	go func() {
		_ = tls.Client(client, cfg).Handshake()
		client.Close()
	}()
	var data []byte
	buf := make([]byte, 1024)
	for {
		n, err := server.Read(buf)
		data = append(data, buf[:n]...)
		if _, perr := ParseClientHello(data); !errors.Is(perr, ErrIncomplete) {
			if perr != nil {
				t.Fatalf("parse captured hello: %v", perr)
			}
			return data
		}
		if err != nil {
			t.Fatalf("read hello: %v", err)
		}
	}
}

// frame puts a handshake message into handshake records of at most size
// bytes each.
func frame(msg []byte, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, recordTypeHandshake, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// vec prefixes data with its length in lenBytes (1, 2 or 3) bytes.
func vec(lenBytes int, data ...[]byte) []byte {
	body := bytes.Join(data, nil)
	var out []byte
	for i := lenBytes - 1; i >= 0; i-- {
		out = append(out, byte(len(body)>>(8*i)))
	}
	return append(out, body...)
}

// ext is one ClientHello extension.
func ext(typ int, data []byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ)}, vec(2, data)...)
}

// sniExt is a server_name extension with a host_name entry per name.
func sniExt(names ...string) []byte {
	var entries [][]byte
	for _, n := range names {
		entries = append(entries, append([]byte{nameTypeHostName}, vec(2, []byte(n))...))
	}
	return ext(extServerName, vec(2, entries...))
}

// helloMsg is a minimal ClientHello handshake message; with no extensions
// it has no extensions block at all.
func helloMsg(exts ...[]byte) []byte {
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)           // random
	body = append(body, 0)                             // session id
	body = append(body, vec(2, []byte{0xc0, 0x2f})...) // one suite
	body = append(body, vec(1, []byte{0})...)          // null compression
	if len(exts) > 0 {
		body = append(body, vec(2, exts...)...)
	}
	return append([]byte{typeClientHello}, vec(3, body)...)
}

func TestParseClientHelloLive(t *testing.T) {
	tests := []struct {
		name string
		cfg  *tls.Config
		want string
	}{
		{"sni", &tls.Config{ServerName: "www.example.test"}, "www.example.test"},
		{"sni case kept", &tls.Config{ServerName: "WWW.Example.TEST"}, "WWW.Example.TEST"},
		{"no sni", &tls.Config{InsecureSkipVerify: true}, ""},
		{"ip has no sni", &tls.Config{ServerName: "127.0.0.1"}, ""},
		{"tls12", &tls.Config{ServerName: "a.example.test", MaxVersion: tls.VersionTLS12}, "a.example.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := captureHello(t, tt.cfg)
			hello, err := ParseClientHello(data)
			if err != nil || hello.ServerName != tt.want {
				t.Fatalf("ParseClientHello = %+v, %v; want ServerName %q", hello, err, tt.want)
			}
			for i := range len(data) {
				if _, err := ParseClientHello(data[:i]); !errors.Is(err, ErrIncomplete) {
					t.Fatalf("ParseClientHello(first %d of %d bytes) = %v, want ErrIncomplete", i, len(data), err)
				}
			}
			withTail := append(append([]byte(nil), data...), 23, 3, 3, 0, 1, 0)
			if got, err := ParseClientHello(withTail); err != nil || got != hello {
				t.Fatalf("with trailing record: %+v, %v", got, err)
			}
			msg, err := reassemble(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 2, 3, 7, 100, 512} {
				if got, err := ParseClientHello(frame(msg, size)); err != nil || got != hello {
					t.Fatalf("split into %d-byte records: %+v, %v", size, got, err)
				}
			}
		})
	}
}

func TestParseClientHello(t *testing.T) {
	withSNI := frame(helloMsg(ext(43, []byte{2, 3, 4}), sniExt("x.test")), 1<<14)
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr string // substring; "" means success
	}{
		{"minimal with sni", withSNI, "x.test", ""},
		{"no extensions", frame(helloMsg(), 100), "", ""},
		{"other extensions only", frame(helloMsg(ext(16, vec(2, vec(1, []byte("h2"))))), 100), "", ""},
		{"trailing dot kept", frame(helloMsg(sniExt("www.x.test.")), 100), "www.x.test.", ""},
		{"non-host_name entry skipped", frame(helloMsg(ext(0, vec(2, []byte{1, 0, 1, 'a'}))), 100), "", ""},
		{"empty", nil, "", ErrIncomplete.Error()},
		{"plain http", []byte("GET / HTTP/1.1\r\n"), "", ErrNotTLS.Error()},
		{"one byte", []byte{'G'}, "", ErrNotTLS.Error()},
		{"ssl2 or garbage version", []byte{22, 0x80, 0, 0, 1}, "", ErrNotTLS.Error()},
		{"alert before hello done", append(frame(helloMsg(sniExt("x.test"))[:10], 100), 21, 3, 3, 0, 2, 2, 40), "", "record type 21"},
		{"huge record", []byte{22, 3, 1, 0x40, 1}, "", "record length 16385"},
		{"server hello", frame([]byte{2, 0, 0, 0}, 100), "", "handshake type 2"},
		{"huge hello", frame([]byte{1, 1, 0, 1}, 100), "", "length 65537 exceeds"},
		{"short random", frame([]byte{1, 0, 0, 3, 3, 3, 0}, 100), "", "short version or random"},
		{"long session id", frame(append([]byte{1}, vec(3, append(make([]byte, 34), vec(1, make([]byte, 33))...))...), 100), "", "session id length 33"},
		{"odd suites", frame(append([]byte{1}, vec(3, append(make([]byte, 35), vec(2, []byte{1})...))...), 100), "", "cipher suites length 1"},
		{"extensions overrun", frame(patchLen(helloMsg(sniExt("x.test")), -1), 100), "", "short extensions"},
		{"bytes after extensions", frame(patchLen(append(helloMsg(sniExt("x.test")), 0), 1), 100), "", "1 bytes after the extensions"},
		{"duplicate sni extension", frame(helloMsg(sniExt("a.test"), sniExt("b.test")), 100), "", "duplicate server_name"},
		{"two host names", frame(helloMsg(sniExt("a.test", "b.test")), 100), "", "more than one host_name"},
		{"empty host name", frame(helloMsg(sniExt("")), 100), "", "empty host_name"},
		{"empty sni list", frame(helloMsg(ext(0, vec(2))), 100), "", "empty server_name list"},
		{"empty sni extension", frame(helloMsg(ext(0, nil)), 100), "", "server_name list length"},
		{"short sni entry", frame(helloMsg(ext(0, vec(2, []byte{0, 0, 5, 'a'}))), 100), "", "short server_name entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hello, err := ParseClientHello(tt.data)
			if tt.wantErr == "" {
				if err != nil || hello.ServerName != tt.want {
					t.Fatalf("ParseClientHello = %+v, %v; want ServerName %q", hello, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseClientHello error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// patchLen adds delta to the 3-byte length of a handshake message without
// changing its body, keeping the extensions block's own length.
func patchLen(msg []byte, delta int) []byte {
	out := append([]byte(nil), msg...)
	n := int(out[1])<<16 | int(out[2])<<8 | int(out[3]) + delta
	out[1], out[2], out[3] = byte(n>>16), byte(n>>8), byte(n)
	return out[:min(len(out), handshakeHeaderLen+n)]
}

func FuzzParseClientHello(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		hello, err := ParseClientHello(data)
		if err != nil {
			return
		}
		msg, err := reassemble(data)
		if err != nil {
			t.Fatalf("ParseClientHello accepted what reassemble rejects: %v", err)
		}
		framed := frame(msg, 1+len(data)%97)
		again, err := ParseClientHello(framed)
		if err != nil || again != hello {
			t.Fatalf("reframed: %+v, %v; want %+v", again, err, hello)
		}
		for _, cut := range []int{0, len(framed) / 2, len(framed) - 1} {
			if _, err := ParseClientHello(framed[:cut]); !errors.Is(err, ErrIncomplete) {
				t.Fatalf("first %d of %d bytes: %v, want ErrIncomplete", cut, len(framed), err)
			}
		}
	})
}

// TestFuzzSeedCorpus checks the seed corpus still parses as recorded, and
// with -update rewrites it from a live crypto/tls client.
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParseClientHello")
	if *update {
		sni := captureHello(t, &tls.Config{ServerName: "www.example.test", NextProtos: []string{"h2", "http/1.1"}})
		msg, err := reassemble(sni)
		if err != nil {
			t.Fatal(err)
		}
		seeds := map[string][]byte{
			"sni":       sni,
			"no-sni":    captureHello(t, &tls.Config{InsecureSkipVerify: true}),
			"tls12-sni": captureHello(t, &tls.Config{ServerName: "a.example.test", MaxVersion: tls.VersionTLS12}),
			"split-sni": frame(msg, 64),
			"truncated": sni[:len(sni)/2],
			"http":      []byte("GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"),
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{
		"sni":       "www.example.test",
		"no-sni":    "",
		"tls12-sni": "a.example.test",
		"split-sni": "www.example.test",
		"truncated": ErrIncomplete.Error(),
		"http":      ErrNotTLS.Error(),
	}
	for name, w := range want {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%v (run with -update to create the corpus)", err)
		}
		_, quoted, ok := strings.Cut(strings.TrimSpace(string(raw)), "[]byte(")
		if !ok {
			t.Fatalf("%s: not a fuzz corpus file", name)
		}
		data, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hello, err := ParseClientHello([]byte(data))
		got := hello.ServerName
		if err != nil {
			got = err.Error()
		}
		if got != w {
			t.Errorf("%s: got %q, want %q", name, got, w)
		}
	}
}

func TestReadClientHelloLimit(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	go func() {
		// A ClientHello claiming 60000 bytes, sent one byte per record.
		msg := append([]byte{typeClientHello, 0, 0xea, 0x60}, make([]byte, 60000)...)
		_, _ = client.Write(frame(msg, 1))
		client.Close()
	}()
	_, _, err := readClientHello(server)
	if err == nil || !strings.Contains(err.Error(), "read client hello: no end after") {
		t.Fatalf("readClientHello error = %v", err)
	}
}
