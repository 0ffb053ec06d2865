package check

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/sniproof/sniproof/harness"
)

// ffdhe2048 is the finite-field Diffie-Hellman group ffdhe2048 of RFC 7919
// (appendix A.1), the published group certbot's ssl-dhparams.pem holds: a
// stand-in for a missing ssl_dhparam file that is no generated secret.
const ffdhe2048 = `-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
`

// Stand-ins for what nginx -t finds missing, beside the certificates
// (throwaway): an included file, a dhparam file.
var (
	// missingOpen is nginx's message for a file it cannot open, with the
	// directive's file and line.
	missingOpen = regexp.MustCompile(`open\(\) "([^"]+)" failed \(2: No such file or directory\) in ([^\s:]+):(\d+)`)
	// missingBIO is OpenSSL's, through nginx, for a dhparam file.
	missingBIO = regexp.MustCompile(`BIO_new_file\("([^"]+)"\) failed`)
)

// Root is a folder on this machine that stands for a folder of the
// proxy's host: --root /etc/letsencrypt=./le.
type Root struct{ Container, Host string }

// ParseRoot reads --root's CONTAINER=HOST. Errors are *UsageError.
func ParseRoot(s string) (Root, error) {
	c, h, ok := strings.Cut(s, "=")
	if !ok || !path.IsAbs(c) || h == "" {
		return Root{}, usagef("--root takes FOLDER=LOCAL, an absolute folder of the proxy's host and a folder on this machine holding its files (e.g. --root /etc/letsencrypt=./le), got %q", s)
	}
	st, err := os.Stat(h)
	if err != nil || !st.IsDir() {
		return Root{}, usagef("--root %s: %s is not a folder on this machine", s, h)
	}
	return Root{Container: path.Clean(c), Host: h}, nil
}

// copyRoots copies every regular file under each --root folder into the
// proxy's host, where the configuration names it, and notes it.
func (r *runner) copyRoots(ctx context.Context) error {
	for _, root := range r.opts.Roots {
		files := map[string][]byte{}
		err := filepath.WalkDir(root.Host, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			st, serr := os.Stat(p)
			if serr != nil || !st.Mode().IsRegular() || st.Size() > 16<<20 {
				return nil
			}
			data, rerr := os.ReadFile(p)
			if rerr != nil {
				return rerr
			}
			rel, _ := filepath.Rel(root.Host, p)
			files[path.Join(root.Container, filepath.ToSlash(rel))] = data
			return nil
		})
		if err != nil {
			return usagef("--root %s=%s: %v", root.Container, root.Host, cause(err))
		}
		if err := r.proxy.CopyFiles(ctx, files); err != nil {
			return &harness.InfraError{Op: "copy --root " + root.Container, Err: err}
		}
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s holds the %d files of %s (--root)", root.Container, len(files), root.Host))
	}
	return nil
}
