package harness

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// aptSources are the host's apt configuration files, read to find the Debian
// mirror; the repository never names one.
var aptSources = []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"}

// DebianMirror is the Debian archive to build images from: the value of
// SNIPROOF_DEBIAN_MIRROR when set, else the first non-security archive URI
// of the host's own apt configuration.
func DebianMirror() (string, error) {
	if m := os.Getenv("SNIPROOF_DEBIAN_MIRROR"); m != "" {
		return m, nil
	}
	var files []string
	for _, pattern := range aptSources {
		matches, _ := filepath.Glob(pattern)
		files = append(files, matches...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if uri := mirrorIn(string(data)); uri != "" {
			return uri, nil
		}
	}
	return "", errors.New("find Debian mirror: no http(s) archive URI in the host's apt configuration (" +
		strings.Join(aptSources, ", ") + "); set SNIPROOF_DEBIAN_MIRROR")
}

// mirrorIn returns the first archive URI of a sources.list or deb822
// .sources text that is not a security archive.
func mirrorIn(text string) string {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		var candidates []string
		switch {
		case len(fields) >= 2 && fields[0] == "URIs:":
			candidates = fields[1:]
		case len(fields) >= 3 && fields[0] == "deb":
			// deb [options] URI suite components
			for _, f := range fields[1:] {
				if strings.Contains(f, "://") {
					candidates = []string{f}
					break
				}
			}
		}
		for _, c := range candidates {
			if (strings.HasPrefix(c, "http://") || strings.HasPrefix(c, "https://")) && !strings.Contains(c, "security") {
				return c
			}
		}
	}
	return ""
}
