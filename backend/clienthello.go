package backend

import (
	"errors"
	"fmt"
)

// TLS wire constants used here.
const (
	recordTypeAlert     = 21
	recordTypeHandshake = 22
	typeClientHello     = 1
	extServerName       = 0
	nameTypeHostName    = 0

	recordHeaderLen    = 5
	maxRecordLen       = 1 << 14
	handshakeHeaderLen = 4
	// maxHelloLen bounds the ClientHello handshake message, as crypto/tls
	// bounds every handshake message.
	maxHelloLen = 1 << 16
)

var (
	// ErrNotTLS means the data does not start with a TLS handshake record.
	ErrNotTLS = errors.New("not a TLS handshake record")
	// ErrIncomplete means the data ends before the ClientHello does.
	ErrIncomplete = errors.New("incomplete client hello")
)

// ClientHello is what the backend takes from a ClientHello.
type ClientHello struct {
	// ServerName is the host_name of the server_name extension, exactly as
	// sent; "" when there is none.
	ServerName string
}

// ParseClientHello parses the ClientHello at the start of data, the bytes a
// client sent first: one or more TLS records of type handshake carrying the
// ClientHello message. Bytes after the ClientHello are ignored.
//
// It returns ErrNotTLS when data does not start like a TLS record,
// ErrIncomplete when data ends before the ClientHello message does, and an
// error starting with "malformed client hello" when the records or the
// message are malformed. It never reads beyond data.
func ParseClientHello(data []byte) (ClientHello, error) {
	msg, err := reassemble(data)
	if err != nil {
		return ClientHello{}, err
	}
	name, err := parseHelloBody(msg[handshakeHeaderLen:])
	if err != nil {
		return ClientHello{}, fmt.Errorf("malformed client hello: %w", err)
	}
	return ClientHello{ServerName: name}, nil
}

// reassemble returns the ClientHello handshake message, header included,
// from the handshake records at the start of data.
func reassemble(data []byte) ([]byte, error) {
	var msg []byte
	for first := true; ; first = false {
		if len(data) == 0 {
			return nil, ErrIncomplete
		}
		if data[0] != recordTypeHandshake {
			if first {
				return nil, ErrNotTLS
			}
			return nil, fmt.Errorf("malformed client hello: record type %d inside the handshake", data[0])
		}
		if first && len(data) > 1 && data[1] != 3 {
			return nil, ErrNotTLS
		}
		if len(data) < recordHeaderLen {
			return nil, ErrIncomplete
		}
		n := int(data[3])<<8 | int(data[4])
		if n > maxRecordLen {
			return nil, fmt.Errorf("malformed client hello: record length %d exceeds %d", n, maxRecordLen)
		}
		if len(data) < recordHeaderLen+n {
			return nil, ErrIncomplete
		}
		msg = append(msg, data[recordHeaderLen:recordHeaderLen+n]...)
		data = data[recordHeaderLen+n:]
		if len(msg) < handshakeHeaderLen {
			continue
		}
		if msg[0] != typeClientHello {
			return nil, fmt.Errorf("malformed client hello: handshake type %d, expected client_hello (1)", msg[0])
		}
		size := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
		if size > maxHelloLen {
			return nil, fmt.Errorf("malformed client hello: length %d exceeds %d", size, maxHelloLen)
		}
		if len(msg) >= handshakeHeaderLen+size {
			return msg[:handshakeHeaderLen+size], nil
		}
	}
}

// parseHelloBody returns the SNI host name from a ClientHello body.
func parseHelloBody(body []byte) (string, error) {
	r := reader(body)
	if !r.skip(2 + 32) {
		return "", errors.New("short version or random")
	}
	sessionID, ok := r.vector(1)
	if !ok {
		return "", errors.New("short session id")
	}
	if len(sessionID) > 32 {
		return "", fmt.Errorf("session id length %d exceeds 32", len(sessionID))
	}
	suites, ok := r.vector(2)
	if !ok {
		return "", errors.New("short cipher suites")
	}
	if len(suites) == 0 || len(suites)%2 != 0 {
		return "", fmt.Errorf("cipher suites length %d", len(suites))
	}
	compression, ok := r.vector(1)
	if !ok || len(compression) == 0 {
		return "", errors.New("short compression methods")
	}
	if len(r) == 0 {
		return "", nil // no extensions at all
	}
	exts, ok := r.vector(2)
	if !ok {
		return "", errors.New("short extensions")
	}
	if len(r) != 0 {
		return "", fmt.Errorf("%d bytes after the extensions", len(r))
	}
	var name string
	seenSNI := false
	for len(exts) > 0 {
		typ, ok1 := exts.uint16()
		data, ok2 := exts.vector(2)
		if !ok1 || !ok2 {
			return "", errors.New("short extension")
		}
		if typ != extServerName {
			continue
		}
		if seenSNI {
			return "", errors.New("duplicate server_name extension")
		}
		seenSNI = true
		var err error
		if name, err = parseServerName(data); err != nil {
			return "", err
		}
	}
	return name, nil
}

// parseServerName returns the host_name entry of a server_name extension,
// or "" when the list holds none.
func parseServerName(data reader) (string, error) {
	list, ok := data.vector(2)
	if !ok || len(data) != 0 {
		return "", errors.New("server_name list length does not match the extension")
	}
	if len(list) == 0 {
		return "", errors.New("empty server_name list")
	}
	var name string
	for len(list) > 0 {
		typ, ok1 := list.uint8()
		host, ok2 := list.vector(2)
		if !ok1 || !ok2 {
			return "", errors.New("short server_name entry")
		}
		if typ != nameTypeHostName {
			continue
		}
		if len(host) == 0 {
			return "", errors.New("empty host_name")
		}
		if name != "" {
			return "", errors.New("more than one host_name")
		}
		name = string(host)
	}
	return name, nil
}

// reader consumes big-endian TLS vectors from the front of a byte slice.
type reader []byte

func (r *reader) skip(n int) bool {
	if len(*r) < n {
		return false
	}
	*r = (*r)[n:]
	return true
}

func (r *reader) uint8() (int, bool) {
	if len(*r) < 1 {
		return 0, false
	}
	v := int((*r)[0])
	*r = (*r)[1:]
	return v, true
}

func (r *reader) uint16() (int, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := int((*r)[0])<<8 | int((*r)[1])
	*r = (*r)[2:]
	return v, true
}

// vector reads a vector whose length prefix takes lenBytes (1 or 2) bytes.
func (r *reader) vector(lenBytes int) (reader, bool) {
	var n int
	var ok bool
	if lenBytes == 1 {
		n, ok = r.uint8()
	} else {
		n, ok = r.uint16()
	}
	if !ok || len(*r) < n {
		return nil, false
	}
	v := (*r)[:n]
	*r = (*r)[n:]
	return v, true
}
