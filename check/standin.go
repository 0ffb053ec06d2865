package check

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
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

// standIn is what check puts at a path nginx -t reports missing, when the
// directive naming it is an include or an ssl_dhparam: an empty file for
// an include (certbot's options-ssl-nginx.conf, outside the folder), the
// standard group for a dhparam; ok is false for anything else.
func (r *runner) standIn(out string) (files map[string][]byte, note string, ok bool) {
	t := r.cfg.Tree
	if m := missingOpen.FindStringSubmatch(out); m != nil {
		at, text := r.lineAt(m[2], m[3])
		if !strings.HasPrefix(text, "include") {
			return nil, "", false
		}
		return map[string][]byte{m[1]: fmt.Appendf(nil, "# sniproof check: an empty stand-in for %s, which the run lacks\n", m[1])},
			fmt.Sprintf("include %s (%s) is not in the folder nor in the image: check put an empty stand-in there (name the real folder with --root %s=DIR)", m[1], at, path.Dir(m[1])), true
	}
	if m := missingBIO.FindStringSubmatch(out); m != nil && noSuchFile.MatchString(out) {
		var dh *lint.Node
		t.Root.Walk(func(n *lint.Node) {
			if n.Name == "ssl_dhparam" && t.ContainerPath(n.Arg(0)) == m[1] {
				dh = n
			}
		})
		if dh == nil {
			return nil, "", false
		}
		return map[string][]byte{m[1]: []byte(ffdhe2048)},
			fmt.Sprintf("ssl_dhparam %s (%s) is missing: check put the standard group ffdhe2048 of RFC 7919 there, as certbot's ssl-dhparams.pem holds", dh.Arg(0), dh.Pos()), true
	}
	return nil, "", false
}

// lineAt is the operator's FILE:LINE of a container file's line, as
// nginx's messages name it, and the line's text, trimmed.
func (r *runner) lineAt(file, line string) (string, string) {
	for _, f := range r.cfg.Tree.Files {
		if f.Container != file {
			continue
		}
		data := r.cfg.Tree.Options.MainContent
		if f.Host != "" {
			var err error
			if data, err = os.ReadFile(f.Host); err != nil {
				return f.Name + ":" + line, ""
			}
		}
		lines := strings.Split(string(data), "\n")
		n, err := strconv.Atoi(line)
		if err != nil || n < 1 || n > len(lines) {
			return f.Name + ":" + line, ""
		}
		return f.Name + ":" + line, strings.TrimSpace(lines[n-1])
	}
	return file + ":" + line, ""
}

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
