package certs_test

import (
	"crypto/x509"
	"fmt"

	"github.com/sniproof/sniproof/certs"
)

// A leaf's names are split into DNS and IP SANs; the first one is also the
// common name. A leaf issued by the root itself carries no chain.
func ExampleAuthority_Leaf() {
	root, err := certs.NewCA("example root")
	if err != nil {
		panic(err)
	}
	leaf, err := root.Leaf("www.example.test", "127.0.0.1", "api.example.test")
	if err != nil {
		panic(err)
	}
	fmt.Println("CN:", leaf.Cert.Subject.CommonName)
	fmt.Println("DNS:", leaf.Cert.DNSNames)
	fmt.Println("IP:", leaf.Cert.IPAddresses)
	fmt.Println("chain:", len(leaf.Chain))
	// Output:
	// CN: www.example.test
	// DNS: [www.example.test api.example.test]
	// IP: [127.0.0.1]
	// chain: 0
}

// A leaf under two intermediates carries them nearest first; the root stays
// out of the chain and goes into the client's pool.
func ExampleAuthority_Intermediate() {
	root, _ := certs.NewCA("root")
	one, _ := root.Intermediate("one")
	two, _ := one.Intermediate("two")
	leaf, _ := two.Leaf("www.example.test")
	for _, c := range leaf.Chain {
		fmt.Println(c.Subject.CommonName)
	}
	inter := x509.NewCertPool()
	for _, c := range leaf.Chain {
		inter.AddCert(c)
	}
	_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: certs.Pool(root), Intermediates: inter, DNSName: "www.example.test"})
	fmt.Println("verify:", err)
	// Output:
	// two
	// one
	// verify: <nil>
}
