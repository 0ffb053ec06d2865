package check

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sniproof/sniproof/lint"
)

// DefaultConfDir is where nginx reads its configuration in Debian's and
// nginx.org's images, and so where check puts an operator's main file.
const DefaultConfDir = "/etc/nginx"

// Config is an operator's nginx configuration as check runs it: the files
// read on this machine, where they go in the container, and the tree lint
// reads from them.
type Config struct {
	// Named is CONFIG as the operator named it.
	Named string
	Tree  *lint.Tree
	// Wrapped is set when Named is a folder of site files, which check
	// wraps in a main file of its own (Tree's main file, MainContent).
	Wrapped bool
	// Sites are the wrapped site files, by name.
	Sites []string
}

// Main is the main file's path in the container: what nginx -c names.
func (c *Config) Main() string {
	return path.Join(c.Tree.Options.ConfDir, c.Tree.Options.Main)
}

// UsageError is bad input from the operator: an unreadable configuration,
// an invalid expectations or baseline file, an image without nginx. Its
// message is one sentence.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ErrNothing is the class of LoadConfig's error for a main file that
// holds no directive: empty, or only comments. check exits
// ExitNotChecked for it.
var ErrNothing = errors.New("nothing to check")

func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// LoadConfig reads the configuration named: an nginx.conf (or any main
// file), a folder holding nginx.conf, or a site file or a folder of site
// files, which it wraps in a minimal main file with an http {} block of
// its own (sniproof-main.conf). The folder
// of the main file is mirrored at confDir ("" for DefaultConfDir) in the
// container. A file or folder that cannot be read and a file that is
// binary or in another language (lint.ErrNotConfig) are a *UsageError; an
// empty main file is of class ErrNothing; a configuration that cannot be parsed a
// *lint.ConfigError naming the file and line.
func LoadConfig(named, confDir string) (*Config, error) {
	if confDir == "" {
		confDir = DefaultConfDir
	}
	if !path.IsAbs(confDir) {
		return nil, usagef("--conf-dir must be an absolute path in the container, got %q", confDir)
	}
	st, err := os.Stat(named)
	if err != nil {
		return nil, usagef("cannot read the configuration %s: %v", named, cause(err))
	}
	c := &Config{Named: named}
	opts := lint.TreeOptions{ConfDir: confDir}
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			return nil, usagef("cannot read the configuration %s: not a regular file", named)
		}
		if err := readable(named); err != nil {
			return nil, err
		}
		opts.HostDir, opts.Main = filepath.Dir(named), filepath.Base(named)
	} else {
		opts.HostDir = named
		entries, err := os.ReadDir(named)
		if err != nil {
			return nil, usagef("cannot read the configuration folder %s: %v", named, cause(err))
		}
		if slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == "nginx.conf" && !e.IsDir() }) {
			opts.Main = "nginx.conf"
			if err := readable(filepath.Join(named, "nginx.conf")); err != nil {
				return nil, err
			}
		} else {
			c.Wrapped = true
			for _, e := range entries {
				if isSiteFile(named, e) {
					c.Sites = append(c.Sites, e.Name())
				}
			}
			if len(c.Sites) == 0 {
				return nil, usagef("the folder %s has neither nginx.conf nor site files (*.conf, or files without an extension)", named)
			}
			opts.Main, opts.MainContent = wrapperName, wrapper(named, confDir, c.Sites)
		}
	}
	c.Tree, err = lint.LoadTree(opts)
	if err == nil && !c.Wrapped {
		main := filepath.Join(opts.HostDir, opts.Main)
		if data, rerr := os.ReadFile(main); rerr == nil && lint.Blank(data) != "" {
			return nil, fmt.Errorf("%s %s: %w", main, lint.Blank(data), ErrNothing)
		}
	}
	if err == nil && !c.Wrapped && isSiteConfig(c.Tree) {
		// A site file named alone: wrap it like a folder's.
		c.Wrapped, c.Sites = true, []string{opts.Main}
		opts.MainContent = wrapper(opts.HostDir, confDir, c.Sites)
		opts.Main = wrapperName
		c.Tree, err = lint.LoadTree(opts)
	}
	if err != nil {
		var ce *lint.ConfigError
		if errors.As(err, &ce) && strings.Contains(ce.Msg, "cannot read") {
			return nil, usagef("cannot read the configuration: %s", ce.Error())
		}
		if errors.Is(err, lint.ErrNotConfig) {
			at := *ce
			at.File = filepath.Join(opts.HostDir, filepath.FromSlash(ce.File))
			return nil, usagef("%v: %s", &at, checkRuns)
		}
		return c, err
	}
	return c, nil
}

// checkRuns is what check runs, said after a file that is none of it.
const checkRuns = "check runs an nginx.conf, a folder holding nginx.conf or site files, or an haproxy.cfg"

// readable checks that a file can be opened, in one sentence when not.
func readable(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return usagef("cannot read the configuration %s: %v", file, cause(err))
	}
	return f.Close()
}

// cause strips the path an *fs.PathError repeats.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// isSiteFile reports whether a folder entry is a site file to wrap: a
// regular file (or a link to one), not hidden, named *.conf or without an
// extension, as Debian's sites-enabled files are.
func isSiteFile(dir string, e fs.DirEntry) bool {
	name := e.Name()
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return false
	}
	if ext := filepath.Ext(name); ext != "" && ext != ".conf" {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, name))
	return err == nil && st.Mode().IsRegular()
}

// wrapperName is the name of the main file check makes for site files.
const wrapperName = "sniproof-main.conf"

// isSiteConfig reports whether a main file is a site file: servers or
// upstreams at its top level, and no events or http block.
func isSiteConfig(t *lint.Tree) bool {
	site := false
	for _, n := range t.Root.Children {
		switch n.Name {
		case "events", "http", "stream", "mail":
			return false
		case "server", "upstream", "location", "map":
			site = true
		}
	}
	return site
}

// wrapper is the main file check makes for site files.
func wrapper(dir, confDir string, sites []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Made by sniproof check: %s holds site files, not a whole nginx.conf,\n", dir)
	b.WriteString("# so they are wrapped in this minimal main file of sniproof's own.\n")
	b.WriteString("events {}\n\nhttp {\n")
	for _, s := range sites {
		fmt.Fprintf(&b, "    include %s;\n", path.Join(confDir, s))
	}
	b.WriteString("}\n")
	return []byte(b.String())
}
