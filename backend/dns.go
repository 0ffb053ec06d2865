package backend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// DNSServer is a resolver the backend impersonates: the address a proxy's
// configuration names (nginx resolver 10.96.0.10, a loopback dnsmasq), on
// UDP and TCP. It answers A queries for Hosts with their addresses and
// every other name with NXDOMAIN (AAAA queries for Hosts get no data), and
// records each query as a KindDNS event.
type DNSServer struct {
	// Addr is the address to answer at, such as "10.96.0.10:53".
	Addr string `json:"addr"`
	// Hosts maps lower-case host names, without a final dot, to IPv4
	// addresses.
	Hosts map[string]string `json:"hosts"`
}

// KindDNS is a DNS query the backend answered: Host is the name asked
// for, Reason the answer ("198.18.0.2", "no data" or "nxdomain").
const KindDNS = "dns"

func (d DNSServer) validate() error {
	if _, err := netip.ParseAddrPort(d.Addr); err != nil {
		return fmt.Errorf("addr: %w", err)
	}
	for name, a := range d.Hosts {
		if ip, err := netip.ParseAddr(a); err != nil || !ip.Is4() {
			return fmt.Errorf("hosts: %s: %q is not an IPv4 address", name, a)
		}
	}
	return nil
}

// DNS message constants (RFC 1035).
const (
	dnsTypeA    = 1
	dnsTypeAAAA = 28
	dnsClassIN  = 1
	rcodeOK     = 0
	rcodeFormat = 1
	rcodeNX     = 3
	rcodeNotImp = 4
)

// errDNSFormat is a query that cannot be parsed.
var errDNSFormat = errors.New("malformed DNS query")

// dnsQuestion is the one question of a query.
type dnsQuestion struct {
	name         string // lower case, no final dot
	qtype, class uint16
	end          int // offset just past the question
}

// parseDNSQuery reads a query's header and first question.
func parseDNSQuery(msg []byte) (dnsQuestion, error) {
	var q dnsQuestion
	if len(msg) < 12 || msg[2]&0x80 != 0 || binary.BigEndian.Uint16(msg[4:6]) != 1 {
		return q, errDNSFormat
	}
	var labels []string
	i := 12
	for {
		if i >= len(msg) {
			return q, errDNSFormat
		}
		n := int(msg[i])
		i++
		if n == 0 {
			break
		}
		if n > 63 || i+n > len(msg) {
			return q, errDNSFormat
		}
		labels = append(labels, strings.ToLower(string(msg[i:i+n])))
		i += n
	}
	if i+4 > len(msg) {
		return q, errDNSFormat
	}
	q.name = strings.Join(labels, ".")
	q.qtype = binary.BigEndian.Uint16(msg[i : i+2])
	q.class = binary.BigEndian.Uint16(msg[i+2 : i+4])
	q.end = i + 4
	return q, nil
}

// answerDNS makes the response to msg from hosts, and the answer's text
// for the event.
func answerDNS(msg []byte, hosts map[string]string) ([]byte, dnsQuestion, string) {
	q, err := parseDNSQuery(msg)
	if err != nil {
		if len(msg) < 12 {
			return nil, q, "malformed"
		}
		resp := append([]byte(nil), msg[:12]...)
		resp[2], resp[3] = 0x80|msg[2]&0x01, rcodeFormat
		clear(resp[4:12])
		return resp, q, "malformed"
	}
	resp := append([]byte(nil), msg[:q.end]...)
	resp[2] = 0x84 | msg[2]&0x01 // QR, AA, RD copied
	resp[3] = rcodeOK
	binary.BigEndian.PutUint16(resp[6:8], 0) // ANCOUNT
	binary.BigEndian.PutUint16(resp[8:10], 0)
	binary.BigEndian.PutUint16(resp[10:12], 0)
	addr, known := hosts[strings.TrimSuffix(q.name, ".")]
	switch {
	case q.class != dnsClassIN || (q.qtype != dnsTypeA && q.qtype != dnsTypeAAAA):
		resp[3] = rcodeNotImp
		return resp, q, "not implemented"
	case !known:
		resp[3] = rcodeNX
		return resp, q, "nxdomain"
	case q.qtype == dnsTypeAAAA:
		return resp, q, "no data"
	}
	ip := netip.MustParseAddr(addr).As4()
	binary.BigEndian.PutUint16(resp[6:8], 1)
	resp = append(resp, 0xc0, 12) // the question's name
	resp = binary.BigEndian.AppendUint16(resp, dnsTypeA)
	resp = binary.BigEndian.AppendUint16(resp, dnsClassIN)
	resp = binary.BigEndian.AppendUint32(resp, 30) // TTL
	resp = binary.BigEndian.AppendUint16(resp, 4)
	resp = append(resp, ip[:]...)
	return resp, q, addr
}

// serveDNS answers d's queries on pc (UDP) and ln (TCP) until they close.
func (s *Server) serveDNS(d DNSServer, pc net.PacketConn, ln net.Listener) {
	record := func(remote string, q dnsQuestion, answer string) {
		s.events.add(Event{Listener: "dns " + d.Addr, Kind: KindDNS, Remote: remote, Local: d.Addr, Host: q.name, Reason: answer})
	}
	s.background(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			resp, q, answer := answerDNS(buf[:n], d.Hosts)
			record(from.String(), q, answer)
			if resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	})
	s.background(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.background(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(helloTimeout))
				for {
					var size [2]byte
					if _, err := io.ReadFull(c, size[:]); err != nil {
						return
					}
					msg := make([]byte, binary.BigEndian.Uint16(size[:]))
					if _, err := io.ReadFull(c, msg); err != nil {
						return
					}
					resp, q, answer := answerDNS(msg, d.Hosts)
					record(c.RemoteAddr().String(), q, answer)
					if resp == nil {
						return
					}
					if _, err := c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(resp)))); err != nil {
						return
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			})
		}
	})
}
