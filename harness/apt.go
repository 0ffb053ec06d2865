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
// .sources text that is enabled, http(s), and not a security archive.
func mirrorIn(text string) string {
	// deb822: stanzas separated by blank lines, field names case-insensitive.
	var uris []string
	enabled := true
	flush := func() string {
		defer func() { uris, enabled = nil, true }()
		if !enabled {
			return ""
		}
		for _, u := range uris {
			if isArchive(u) {
				return u
			}
		}
		return ""
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		fields := strings.Fields(line)
		switch {
		case line == "":
			if u := flush(); u != "" {
				return u
			}
		case strings.HasPrefix(line, "#"):
		case len(fields) >= 3 && fields[0] == "deb":
			// deb [options] URI suite components
			for _, f := range fields[1:] {
				if strings.Contains(f, "://") {
					if isArchive(f) {
						return f
					}
					break
				}
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			switch {
			case !ok:
			case strings.EqualFold(name, "URIs"):
				uris = append(uris, strings.Fields(value)...)
			case strings.EqualFold(name, "Enabled"):
				enabled = !strings.EqualFold(strings.TrimSpace(value), "no")
			}
		}
	}
	return flush()
}

// isArchive reports whether uri is an http(s) archive other than a
// security archive (whose path ends in -security).
func isArchive(uri string) bool {
	return (strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://")) &&
		!strings.HasSuffix(strings.TrimRight(uri, "/"), "-security")
}
