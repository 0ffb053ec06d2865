package lint

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
)

// nginxDialect is nginx's configuration language: every file no other
// dialect claims.
type nginxDialect struct{}

func init() { registerDialect(nginxDialect{}) }

func (nginxDialect) name() string { return "nginx" }

func (nginxDialect) claims([]byte) bool { return true }

func (nginxDialect) none() string {
	return "no server or location proxies to an upstream (proxy_pass, grpc_pass, uwsgi_pass)"
}

// lint reads files as Options say: each under ConfDir, each on its own,
// or each copy of a Debian tree under /etc/nginx and the others together.
func (nginxDialect) lint(files []string, opts Options) (*Result, []string, error) {
	switch {
	case opts.ConfDir != "":
		return nginxIn(opts.ConfDir, files)
	case opts.plain:
		res, err := nginxFiles(files)
		return res, nil, err
	}
	var copies, others []string
	for _, p := range files {
		if isDebianCopy(p) {
			copies = append(copies, p)
		} else {
			others = append(others, p)
		}
	}
	res := &Result{}
	if len(others) > 0 {
		var err error
		if res, err = nginxFiles(others); err != nil {
			return nil, nil, err
		}
	}
	var notes []string
	for _, p := range copies {
		r, n, err := nginxIn(debianConfDir, []string{p})
		if err != nil {
			return nil, nil, err
		}
		notes = append(notes, fmt.Sprintf("%s is read as %s/nginx.conf: its includes under %s are read from its folder %s, as sniproof check reads them (--conf-dir names another folder)",
			p, debianConfDir, debianConfDir, filepath.Dir(p)))
		notes = append(notes, n...)
		res.add(r)
	}
	return res, notes, nil
}

// passes are the directives that proxy to an upstream: what the nginx
// rules check.
var passes = []string{"proxy_pass", "grpc_pass", "uwsgi_pass"}

// nginxFiles lints main files together, each with its includes resolved
// against its own folder; upstream {} blocks are looked up across them.
func nginxFiles(paths []string) (*Result, error) {
	var roots []*directive
	res := &Result{}
	for _, p := range paths {
		root, files, err := load(p)
		if err != nil {
			return nil, err
		}
		roots = append(roots, root)
		res.Files = append(res.Files, files...)
	}
	c := newChecker(roots)
	for _, root := range roots {
		c.check(root)
		walk(root, func(d *directive) {
			if slices.Contains(passes, d.name) {
				res.Upstreams++
			}
		})
	}
	res.Findings = c.findings
	return res, nil
}

// nginxIn lints each main file as nginx reads it from confDir, its
// folder standing for confDir.
func nginxIn(confDir string, paths []string) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range paths {
		dir := filepath.Dir(p)
		named := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
		t, err := LoadTree(TreeOptions{HostDir: dir, ConfDir: confDir, Main: filepath.Base(p)})
		if err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) && !filepath.IsAbs(ce.File) {
				ce.File = named(ce.File)
			}
			return nil, nil, err
		}
		for _, f := range t.Files {
			res.Files = append(res.Files, named(f.Name))
		}
		t.Root.Walk(func(n *Node) {
			if slices.Contains(passes, n.Name) {
				res.Upstreams++
			}
		})
		for _, f := range t.Findings {
			f.File = named(f.File)
			res.Findings = append(res.Findings, f)
		}
		for _, inc := range t.Includes {
			if !inc.Followed {
				notes = append(notes, fmt.Sprintf("%s:%d: include %s is not followed: %s does not provide it (nginx reads what the machine has there)",
					named(inc.At.File), inc.At.Line, inc.Pattern, dir))
			}
		}
	}
	return res, notes, nil
}
