package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ApacheNode is a directive or a section of an Apache httpd
// configuration, as Apache reads it: arguments with ${VAR} expanded and
// quotes removed, IfModule and IfDefine sections resolved, Include and
// IncludeOptional replaced by what they include.
type ApacheNode struct {
	// Name is as written ("ProxyPass", "<Location" without the "<").
	Name string
	Args []string
	// File is the file as lint or check names it, Line its line (the
	// first of a continued one).
	File string
	Line int
	// Section: a <Name args> ... </Name> block, its directives Children.
	Section  bool
	Children []*ApacheNode
}

// Is reports whether the directive is name, case-insensitively, as
// Apache matches directive names.
func (n *ApacheNode) Is(name string) bool { return strings.EqualFold(n.Name, name) }

// Arg is the i-th argument, "" when there is none.
func (n *ApacheNode) Arg(i int) string {
	if i < len(n.Args) {
		return n.Args[i]
	}
	return ""
}

// Pos is FILE:LINE.
func (n *ApacheNode) Pos() string { return fmt.Sprintf("%s:%d", n.File, n.Line) }

// ApacheTree says how an Apache configuration is read: where ServerRoot
// is on this machine and in the proxy's host, and the variables of the
// environment Apache starts in.
type ApacheTree struct {
	// HostRoot is the folder on this machine that stands for ServerRoot
	// (a copy of Debian's /etc/apache2), "" for a lone file.
	HostRoot string
	// Name is HostRoot as files are named in findings and reports: an
	// included file is Name joined with its path under HostRoot.
	Name string
	// ServerRoot is the proxy's ServerRoot, /etc/apache2 when empty.
	ServerRoot string
	// Env are the variables ${VAR} expands to (Debian's envvars).
	Env map[string]string
	// Defines are the -D parameters Apache starts with.
	Defines []string
}

// ApacheOutside is a file an Include names that lint does not read: one
// outside the tree, or any for a lone file.
type ApacheOutside struct {
	At       *ApacheNode
	Path     string
	Optional bool
}

// apacheStatic are the modules Debian's apache2 binary has built in.
var apacheStatic = []string{"core_module", "so_module", "watchdog_module", "http_module", "log_config_module", "logio_module", "version_module", "unixd_module"}

// DebianEnvvars are the variables Debian's /etc/apache2/envvars sets.
var DebianEnvvars = map[string]string{
	"APACHE_RUN_USER": "www-data", "APACHE_RUN_GROUP": "www-data", "APACHE_PID_FILE": "/var/run/apache2/apache2.pid",
	"APACHE_RUN_DIR": "/var/run/apache2", "APACHE_LOCK_DIR": "/var/lock/apache2", "APACHE_LOG_DIR": "/var/log/apache2", "LANG": "C",
}

// envAssign is a line of envvars that sets a variable.
var envAssign = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// shellVar is $NAME or ${NAME} in an envvars value.
var shellVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// ReadEnvvars reads the assignments at the start of the lines of a
// Debian envvars file, as sh would set them outside its if blocks;
// unset variables expand to "".
func ReadEnvvars(data []byte) map[string]string {
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		m := envAssign.FindStringSubmatch(strings.TrimRight(sc.Text(), " \t\r"))
		if m == nil {
			continue
		}
		v := strings.Trim(m[2], `"'`)
		env[m[1]] = shellVar.ReplaceAllStringFunc(v, func(s string) string {
			name := strings.Trim(s, "${}")
			return env[name]
		})
	}
	return env
}

// apacheLoader reads a configuration, Include by Include.
type apacheLoader struct {
	tree    ApacheTree
	modules map[string]bool
	defines map[string]string
	files   []string
	outside []ApacheOutside
	depth   int
}

// LoadApache reads the Apache configuration file, named as name (the
// main file as lint or check names it) and stored at hostPath, whose
// path in the proxy's host is main, with its includes. The error, a
// *ConfigError, names the file and line Apache would refuse.
func LoadApache(tree ApacheTree, name, hostPath, main string) (*ApacheConfig, error) {
	if tree.ServerRoot == "" {
		tree.ServerRoot = "/etc/apache2"
	}
	l := &apacheLoader{tree: tree, modules: map[string]bool{}, defines: map[string]string{}}
	for _, m := range apacheStatic {
		l.modules[m] = true
	}
	for _, d := range tree.Defines {
		l.defines[d] = ""
	}
	data, err := os.ReadFile(hostPath)
	if err != nil {
		return nil, &ConfigError{File: name, Msg: "cannot read: " + cause(err)}
	}
	nodes, err := l.file(name, data)
	if err != nil {
		return nil, err
	}
	c := &ApacheConfig{Main: name, Nodes: nodes, Files: l.files, Outside: l.outside}
	c.model()
	return c, nil
}

// ApacheLoneModules are the modules a lone site file is read with, as
// Debian's mods-enabled loads them with mod_proxy's, mod_rewrite's and
// mod_ssl's enabled: check's main configuration for it loads them.
var ApacheLoneModules = []string{"mpm_event", "authz_core", "authz_host", "authn_core", "access_compat", "alias", "dir", "mime", "env", "setenvif",
	"filter", "deflate", "reqtimeout", "negotiation", "status", "headers", "rewrite", "proxy", "proxy_http", "proxy_balancer", "slotmem_shm",
	"lbmethod_byrequests", "socache_shmcb", "ssl", "remoteip", "expires"}

// ParseApache reads one Apache configuration file alone, with the
// modules of ApacheLoneModules loaded, its includes not followed (each
// noted as outside).
func ParseApache(name string, data []byte) (*ApacheConfig, error) {
	l := &apacheLoader{tree: ApacheTree{ServerRoot: "/etc/apache2"}, modules: map[string]bool{}, defines: map[string]string{}}
	for _, m := range apacheStatic {
		l.modules[m] = true
	}
	for _, m := range ApacheLoneModules {
		l.modules[m+"_module"] = true
	}
	nodes, err := l.file(name, data)
	if err != nil {
		return nil, err
	}
	c := &ApacheConfig{Main: name, Nodes: nodes, Files: l.files, Outside: l.outside}
	c.model()
	return c, nil
}

// file parses and resolves one file.
func (l *apacheLoader) file(name string, data []byte) ([]*ApacheNode, error) {
	l.files = append(l.files, name)
	raw, err := parseApacheText(name, data)
	if err != nil {
		return nil, err
	}
	return l.resolve(raw)
}

// parseApacheText splits a file into directives and sections: one
// directive a line, a backslash at the end continuing it, # starting a
// comment line, <Name args> opening a section that </Name> closes.
func parseApacheText(name string, data []byte) ([]*ApacheNode, error) {
	root := &ApacheNode{Section: true}
	stack := []*ApacheNode{root}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		text := strings.TrimSpace(lines[i])
		for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, "\\") + " " + strings.TrimSpace(lines[i])
		}
		text = strings.TrimSpace(strings.TrimSuffix(text, "\\"))
		if text == "" || text[0] == '#' {
			continue
		}
		top := stack[len(stack)-1]
		if strings.HasPrefix(text, "</") {
			if !strings.HasSuffix(text, ">") {
				return nil, &ConfigError{File: name, Line: lineNo, Msg: fmt.Sprintf("%s: a closing section needs a '>'", text)}
			}
			closing := strings.TrimSpace(strings.TrimSuffix(text[2:], ">"))
			if len(stack) == 1 {
				return nil, &ConfigError{File: name, Line: lineNo, Msg: fmt.Sprintf("</%s> without matching <%s> section", closing, closing)}
			}
			if !strings.EqualFold(closing, top.Name) {
				return nil, &ConfigError{File: name, Line: lineNo, Msg: fmt.Sprintf("expected </%s> but saw </%s>", top.Name, closing)}
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if text[0] == '<' {
			if !strings.HasSuffix(text, ">") {
				return nil, &ConfigError{File: name, Line: lineNo, Msg: fmt.Sprintf("%s: a section needs a closing '>'", text)}
			}
			words, err := apacheWords(strings.TrimSuffix(text[1:], ">"))
			if err != nil || len(words) == 0 {
				return nil, &ConfigError{File: name, Line: lineNo, Msg: fmt.Sprintf("%s: want <Name arguments>", text)}
			}
			n := &ApacheNode{Name: words[0], Args: words[1:], File: name, Line: lineNo, Section: true}
			top.Children = append(top.Children, n)
			stack = append(stack, n)
			continue
		}
		words, err := apacheWords(text)
		if err != nil {
			return nil, &ConfigError{File: name, Line: lineNo, Msg: err.Error()}
		}
		top.Children = append(top.Children, &ApacheNode{Name: words[0], Args: words[1:], File: name, Line: lineNo})
	}
	if len(stack) > 1 {
		n := stack[len(stack)-1]
		return nil, &ConfigError{File: name, Line: n.Line, Msg: fmt.Sprintf("<%s> was not closed (want </%s> before the end of the file)", n.Name, n.Name)}
	}
	return root.Children, nil
}

// apacheWords splits a line into words, as Apache's ap_getword_conf
// does: "..." and '...' quote, a backslash escapes the quote in them.
func apacheWords(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if q := s[0]; q == '"' || q == '\'' {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != q; i++ {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == q {
					i++
				}
				b.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("unterminated quote %c in %q", q, s)
			}
			out = append(out, b.String())
			s = s[i+1:]
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
}

// expand replaces ${VAR} by its Define or environment value; an unknown
// one stays, as Apache leaves it (with a warning).
func (l *apacheLoader) expand(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return apacheVar.ReplaceAllStringFunc(s, func(v string) string {
		name := v[2 : len(v)-1]
		if d, ok := l.defines[name]; ok {
			return d
		}
		if e, ok := l.tree.Env[name]; ok {
			return e
		}
		return v
	})
}

var apacheVar = regexp.MustCompile(`\$\{[A-Za-z0-9_]+\}`)

// resolve expands variables and evaluates, in order, what Apache
// evaluates while it reads: Define, LoadModule, IfModule, IfDefine,
// Include, IncludeOptional.
func (l *apacheLoader) resolve(raw []*ApacheNode) ([]*ApacheNode, error) {
	var out []*ApacheNode
	for _, r := range raw {
		n := &ApacheNode{Name: r.Name, File: r.File, Line: r.Line, Section: r.Section}
		for _, a := range r.Args {
			n.Args = append(n.Args, l.expand(a))
		}
		switch {
		case n.Section && (n.Is("IfModule") || n.Is("IfDefine")):
			if len(n.Args) != 1 {
				return nil, &ConfigError{File: n.File, Line: n.Line, Msg: fmt.Sprintf("<%s> takes one argument", n.Name)}
			}
			arg, neg := strings.CutPrefix(n.Arg(0), "!")
			var on bool
			if n.Is("IfModule") {
				on = l.modules[moduleName(arg)]
			} else {
				_, on = l.defines[arg]
			}
			if on != neg {
				kids, err := l.resolve(r.Children)
				if err != nil {
					return nil, err
				}
				out = append(out, kids...)
			}
			continue
		case n.Section:
			kids, err := l.resolve(r.Children)
			if err != nil {
				return nil, err
			}
			n.Children = kids
		case n.Is("Define"):
			if len(n.Args) == 0 {
				return nil, &ConfigError{File: n.File, Line: n.Line, Msg: "Define takes a name and an optional value"}
			}
			l.defines[n.Arg(0)] = n.Arg(1)
		case n.Is("UnDefine"):
			delete(l.defines, n.Arg(0))
		case n.Is("LoadModule"):
			if len(n.Args) != 2 {
				return nil, &ConfigError{File: n.File, Line: n.Line, Msg: "LoadModule takes a module name and a file"}
			}
			l.modules[n.Arg(0)] = true
		case n.Is("Include") || n.Is("IncludeOptional"):
			kids, err := l.include(n)
			if err != nil {
				return nil, err
			}
			out = append(out, kids...)
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// moduleName is an IfModule argument as LoadModule names modules:
// mod_ssl.c is ssl_module.
func moduleName(arg string) string {
	if strings.HasSuffix(arg, ".c") {
		return strings.TrimPrefix(strings.TrimSuffix(arg, ".c"), "mod_") + "_module"
	}
	return arg
}

// include reads the files an Include names, relative to ServerRoot, in
// the order of their names; a wildcard matching nothing, or a missing
// file, is an error for Include and nothing for IncludeOptional. Files
// outside the tree are noted, not read: the Include stays in their place.
func (l *apacheLoader) include(n *ApacheNode) ([]*ApacheNode, error) {
	optional := n.Is("IncludeOptional")
	if len(n.Args) != 1 {
		return nil, &ConfigError{File: n.File, Line: n.Line, Msg: n.Name + " takes one file name or wildcard"}
	}
	p := n.Arg(0)
	if !path.IsAbs(p) {
		p = path.Join(l.tree.ServerRoot, p)
	}
	p = path.Clean(p)
	rel, under := strings.CutPrefix(p, strings.TrimSuffix(l.tree.ServerRoot, "/")+"/")
	if l.tree.HostRoot == "" || !under {
		l.outside = append(l.outside, ApacheOutside{At: n, Path: p, Optional: optional})
		// The directive stays, so that its place is known.
		return []*ApacheNode{n}, nil
	}
	l.depth++
	defer func() { l.depth-- }()
	if l.depth > 64 {
		return nil, &ConfigError{File: n.File, Line: n.Line, Msg: "includes nest more than 64 deep (an include loop?)"}
	}
	host := filepath.Join(l.tree.HostRoot, filepath.FromSlash(rel))
	var matches []string
	if strings.ContainsAny(rel, "*?[") {
		m, err := filepath.Glob(host)
		if err != nil {
			return nil, &ConfigError{File: n.File, Line: n.Line, Msg: fmt.Sprintf("%s %s: bad wildcard", n.Name, n.Arg(0))}
		}
		for _, f := range m {
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
				matches = append(matches, f)
			}
		}
		if len(matches) == 0 && !optional {
			return nil, &ConfigError{File: n.File, Line: n.Line, Msg: fmt.Sprintf("Include %s: the wildcard matches no file (IncludeOptional allows that)", n.Arg(0))}
		}
	} else {
		st, err := os.Stat(host)
		switch {
		case err != nil && optional:
			return nil, nil
		case err != nil:
			return nil, &ConfigError{File: n.File, Line: n.Line, Msg: fmt.Sprintf("Include %s: %s", n.Arg(0), cause(err))}
		case st.IsDir():
			entries, _ := os.ReadDir(host)
			for _, e := range entries {
				if e.Type().IsRegular() {
					matches = append(matches, filepath.Join(host, e.Name()))
				}
			}
		default:
			matches = []string{host}
		}
	}
	slices.Sort(matches)
	var out []*ApacheNode
	for _, f := range matches {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &ConfigError{File: n.File, Line: n.Line, Msg: fmt.Sprintf("%s %s: %s", n.Name, n.Arg(0), cause(err))}
		}
		under, _ := filepath.Rel(l.tree.HostRoot, f)
		kids, err := l.file(filepath.Join(l.tree.Name, under), data)
		if err != nil {
			return nil, err
		}
		out = append(out, kids...)
	}
	return out, nil
}
