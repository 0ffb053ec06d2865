package lint

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tufanbarisyildirim/gonginx/config"
)

// This file gives tools that run a configuration (sniproof check) the same
// view of it that lint has: the directives as nginx reads them, includes
// followed as nginx follows them inside the container that runs it, the
// TLS upstreams as lint recognises them, and lint's findings.

// Node is one directive of a Tree: its name, its arguments unquoted, where
// it is and, for a block, the directives inside, with the directives of
// included files spliced in where their include directive stood.
type Node struct {
	Name string
	Args []string
	// File names the file as the Tree does (TreeFile.Name); Line is the
	// directive's line.
	File string
	Line int
	// Open is, for a block, the line of its '{'; for a directive, Line.
	// (Line is the line of a block's '}'.)
	Open     int
	Block    bool
	Parent   *Node // nil for the root
	Children []*Node

	d *directive
}

// Arg returns the i-th argument, or "" when there is none.
func (n *Node) Arg(i int) string {
	if n == nil || i >= len(n.Args) {
		return ""
	}
	return n.Args[i]
}

// Pos is where n is, as FILE:LINE.
func (n *Node) Pos() string { return n.File + ":" + strconv.Itoa(n.Line) }

// Lookup returns the directive named name in effect in block n, as nginx
// inherits it: the first one in n or, failing that, in the nearest
// enclosing block; nil when none.
func (n *Node) Lookup(name string) *Node {
	for b := n; b != nil; b = b.Parent {
		for _, c := range b.Children {
			if c.Name == name {
				return c
			}
		}
	}
	return nil
}

// Enclosing returns the nearest block above n named name, or nil.
func (n *Node) Enclosing(name string) *Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Module is "stream" for a directive inside stream {}, else "http".
func (n *Node) Module() string { return module(n.d) }

// Walk calls f for every directive under n, depth first, in file order.
func (n *Node) Walk(f func(*Node)) {
	for _, c := range n.Children {
		f(c)
		c.Walk(f)
	}
}

// TreeOptions says where a configuration's files are on this machine and
// where nginx reads them in the container that runs it.
type TreeOptions struct {
	// HostDir is the folder on this machine that holds the main file; it is
	// mirrored at ConfDir in the container.
	HostDir string
	// ConfDir is the folder of the main file in the container, e.g.
	// /etc/nginx. nginx resolves relative include paths against it.
	ConfDir string
	// Main is the main file's path relative to HostDir, e.g. "nginx.conf".
	Main string
	// MainContent, when not nil, is the main file's content, read instead
	// of HostDir/Main (a main file made to wrap site files).
	MainContent []byte
}

// TreeFile is one file of a Tree.
type TreeFile struct {
	// Name is the file's path relative to HostDir, with slashes, e.g.
	// "sites-enabled/shop.conf": how the Tree's nodes and findings name it.
	Name string
	// Host is where it is on this machine ("" for MainContent), Container
	// where nginx reads it.
	Host      string
	Container string
}

// TreeInclude is an include directive of a Tree.
type TreeInclude struct {
	At *Node // the include directive (not in the tree; its Parent is)
	// Pattern is the path nginx reads, made absolute against ConfDir.
	Pattern string
	Glob    bool
	// Files are the files it read, by Name. An include outside ConfDir, or
	// one that names no file under HostDir, is not followed: nginx reads
	// whatever the container has there.
	Files []string
	// Followed says that HostDir provides what the include reads: the file,
	// or for a pattern the folder it lists.
	Followed bool
}

// Tree is a configuration read as nginx reads it in a container whose
// ConfDir mirrors a folder of this machine.
type Tree struct {
	Root     *Node
	Options  TreeOptions
	Files    []TreeFile
	Includes []TreeInclude
	// Findings are lint's, as Files reports them, with files named as the
	// tree names them.
	Findings []Finding

	nodes map[*directive]*Node
	roots []*directive
	opens map[*directive]int // the line of each block's '{'
}

// LoadTree reads the configuration opts describes and runs lint's rules
// over it. Include paths are resolved as nginx resolves them in the
// container: relative ones against ConfDir, and paths under ConfDir are
// read from HostDir. The error, a *ConfigError, names the first file (and
// line) that cannot be read or parsed.
func LoadTree(opts TreeOptions) (*Tree, error) {
	if opts.ConfDir == "" {
		opts.ConfDir = "/etc/nginx"
	}
	opts.ConfDir = path.Clean(opts.ConfDir)
	t := &Tree{Options: opts, nodes: map[*directive]*Node{}, opens: map[*directive]int{}}
	l := &treeLoader{t: t, open: map[string]bool{}}
	name := filepath.ToSlash(filepath.Clean(opts.Main))
	root := &directive{block: true, file: name}
	if err := l.readFile(name, root, opts.MainContent); err != nil {
		return t, err
	}
	t.roots = []*directive{root}
	t.Root = t.node(root, nil)
	c := newChecker(t.roots)
	c.check(root)
	t.Findings = c.findings
	slices.SortStableFunc(t.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule))
	})
	return t, nil
}

// node mirrors d, and everything under it, as a Node.
func (t *Tree) node(d *directive, parent *Node) *Node {
	n := &Node{Name: d.name, Args: d.args, File: d.file, Line: d.line, Open: d.line, Block: d.block, Parent: parent, d: d}
	if open, ok := t.opens[d]; ok {
		n.Open = open
	}
	t.nodes[d] = n
	for _, c := range d.children {
		n.Children = append(n.Children, t.node(c, n))
	}
	return n
}

// ContainerPath is where nginx finds a path named in the configuration:
// relative paths are resolved against ConfDir.
func (t *Tree) ContainerPath(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(t.Options.ConfDir, p)
}

// HostPath is the file on this machine that the container path p mirrors,
// or "" when p is outside ConfDir.
func (t *Tree) HostPath(p string) string {
	rel, ok := t.relative(p)
	if !ok {
		return ""
	}
	return filepath.Join(t.Options.HostDir, filepath.FromSlash(rel))
}

// relative is container path p relative to ConfDir, when it is inside.
func (t *Tree) relative(p string) (string, bool) {
	p = t.ContainerPath(p)
	if p == t.Options.ConfDir {
		return "", false
	}
	rel, ok := strings.CutPrefix(p, t.Options.ConfDir+"/")
	if t.Options.ConfDir == "/" {
		rel, ok = strings.TrimPrefix(p, "/"), true
	}
	return rel, ok
}

// treeLoader reads a Tree's files, following includes.
type treeLoader struct {
	t    *Tree
	open map[string]bool // files being read, by name, to find cycles
	// opens holds, per file being read and line of a '}', the lines of
	// the '{' it closes, in the order the blocks close.
	opens map[string]map[int][]int
}

// readFile parses the file named name (relative to HostDir), or content
// when not nil, and appends its directives to parent's children.
func (l *treeLoader) readFile(name string, parent *directive, content []byte) error {
	host := filepath.Join(l.t.Options.HostDir, filepath.FromSlash(name))
	data := content
	if data == nil {
		var err error
		if data, err = os.ReadFile(host); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return &ConfigError{File: name, Msg: "cannot read: " + err.Error()}
		}
	} else {
		host = ""
	}
	l.open[name] = true
	defer delete(l.open, name)
	l.t.Files = append(l.t.Files, TreeFile{Name: name, Host: host, Container: path.Join(l.t.Options.ConfDir, name)})
	conf, err := parse(string(data))
	if err != nil {
		return parseError(name, data, err)
	}
	if !parsedToEnd(data) {
		return &ConfigError{File: name, Line: strayBrace(data), Msg: `unexpected "}"`}
	}
	if l.opens == nil {
		l.opens = map[string]map[int][]int{}
	}
	l.opens[name] = openLines(data)
	for _, d := range conf.GetDirectives() {
		if err := l.add(d, name, parent); err != nil {
			return err
		}
	}
	return nil
}

// add converts d into a directive under parent, as loader.add does,
// recording where each block opens.
func (l *treeLoader) add(d config.IDirective, file string, parent *directive) error {
	return build(d, file, parent, l.include, func(n *directive) {
		// gonginx gives a block the line of its '}'; find its '{'. Blocks
		// are met here before the blocks inside them, which close first.
		if lines := l.opens[file][n.line]; len(lines) > 0 {
			l.t.opens[n] = lines[len(lines)-1]
			l.opens[file][n.line] = lines[:len(lines)-1]
		}
	})
}

// openLines maps the line of each '}' in data to the lines of the '{' it
// closes, in the order the blocks close.
func openLines(data []byte) map[int][]int {
	out := map[int][]int{}
	var stack []int
	scanBraces(data, func(open bool, line int) bool {
		switch {
		case open:
			stack = append(stack, line)
		case len(stack) > 0:
			out[line] = append(out[line], stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		}
		return true
	})
	return out
}

// include reads the files an include directive names into parent, when
// they are under ConfDir and so mirrored from HostDir. Like nginx, a
// pattern may match nothing and skips hidden files. A plain path that is
// not under HostDir is left to the container, which may have it (Debian's
// mime.types) or not (then nginx -t says so).
func (l *treeLoader) include(inc *directive, parent *directive) error {
	pattern := l.t.ContainerPath(inc.arg(0))
	glob := strings.ContainsAny(pattern, "*?[")
	ti := TreeInclude{At: &Node{Name: inc.name, Args: inc.args, File: inc.file, Line: inc.line, d: inc}, Pattern: pattern, Glob: glob}
	rel, inside := l.t.relative(pattern)
	if !inside {
		l.t.Includes = append(l.t.Includes, ti)
		return nil
	}
	paths, err := filepath.Glob(filepath.Join(l.t.Options.HostDir, filepath.FromSlash(rel)))
	if err != nil {
		return &ConfigError{File: inc.file, Line: inc.line, Msg: fmt.Sprintf("include %s: %v", inc.arg(0), err)}
	}
	slices.Sort(paths)
	for _, p := range paths {
		if glob && strings.HasPrefix(filepath.Base(p), ".") {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			continue
		}
		r, err := filepath.Rel(l.t.Options.HostDir, p)
		if err != nil {
			return &ConfigError{File: inc.file, Line: inc.line, Msg: err.Error()}
		}
		name := filepath.ToSlash(r)
		if l.open[name] {
			return &ConfigError{File: inc.file, Line: inc.line, Msg: fmt.Sprintf("include %s: includes itself through %s", inc.arg(0), name)}
		}
		ti.Files = append(ti.Files, name)
		if err := l.readFile(name, parent, nil); err != nil {
			return err
		}
	}
	ti.Followed = len(ti.Files) > 0
	if glob {
		st, err := os.Stat(filepath.Dir(filepath.Join(l.t.Options.HostDir, filepath.FromSlash(rel))))
		ti.Followed = err == nil && st.IsDir()
	}
	l.t.Includes = append(l.t.Includes, ti)
	return nil
}
