package probe_test

import (
	"fmt"

	"github.com/sniproof/sniproof/probe"
)

// ParseTarget takes what an operator types: HOST, HOST:PORT, an IPv6
// address in brackets, or an https:// URL; the port defaults to 443.
func ExampleParseTarget() {
	for _, s := range []string{"www.xx.test", "www.xx.test:8443", "[2001:db8::1]:8443", "https://www.xx.test/shop", "www.xx.test:https"} {
		host, port, err := probe.ParseTarget(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(host, port)
	}
	// Output:
	// www.xx.test 443
	// www.xx.test 8443
	// 2001:db8::1 8443
	// www.xx.test 443
	// target "www.xx.test:https": port "https" is not a number from 1 to 65535
}
