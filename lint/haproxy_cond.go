package lint

import (
	"errors"
	"strconv"
	"strings"
)

// haCond is one open conditional block of an HAProxy configuration.
type haCond struct {
	// known: its conditions test the version, which is known; only then
	// do on and taken say anything.
	known bool
	// on: the branch being read is the one taken; taken: a branch of the
	// block has been.
	on, taken bool
}

// haConds are the conditional blocks open, innermost last.
type haConds []haCond

// active reports whether the lines being read are in effect: every open
// block whose branch is known is on its taken branch.
func (cs haConds) active() bool {
	for _, c := range cs {
		if c.known && !c.on {
			return false
		}
	}
	return true
}

// read takes a line starting with a dot: .if, .elif, .else and .endif
// open, switch and close blocks; the message directives (.notice,
// .warning, .alert, .diag) change nothing.
func (cs *haConds) read(words []string, version string) error {
	switch words[0] {
	case ".if":
		on, known := haCondition(words[1:], version)
		*cs = append(*cs, haCond{known: known, on: on, taken: on})
	case ".elif", ".else":
		if len(*cs) == 0 {
			return errors.New(words[0] + " without .if")
		}
		c := &(*cs)[len(*cs)-1]
		on, known := true, c.known
		if words[0] == ".elif" {
			var k bool
			on, k = haCondition(words[1:], version)
			known = known && k
		}
		c.known, c.on = known, on && !c.taken
		c.taken = c.taken || c.on
	case ".endif":
		if len(*cs) == 0 {
			return errors.New(".endif without .if")
		}
		*cs = (*cs)[:len(*cs)-1]
	}
	return nil
}

// haCondition evaluates a condition of one term, version_atleast(V) or
// version_before(V), optionally negated by "!", for version; known is
// false for "" and for any other condition.
func haCondition(words []string, version string) (on, known bool) {
	if len(words) != 1 || version == "" {
		return false, false
	}
	term, neg := strings.CutPrefix(words[0], "!")
	fn, arg, ok := strings.Cut(strings.TrimSuffix(term, ")"), "(")
	if !ok || !strings.HasSuffix(term, ")") {
		return false, false
	}
	cmp := compareVersions(version, arg)
	switch fn {
	case "version_atleast":
		on = cmp >= 0
	case "version_before":
		on = cmp < 0
	default:
		return false, false
	}
	return on != neg, true
}

// compareVersions compares dotted versions by their numbers, "3.4.7"
// after "3.3"; what follows a number that is not a digit ("-dev12") is
// not compared.
func compareVersions(a, b string) int {
	pa, pb := versionNumbers(a), versionNumbers(b)
	for i := range max(len(pa), len(pb)) {
		x, y := 0, 0
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// versionNumbers are the leading numbers of a dotted version.
func versionNumbers(v string) []int {
	var out []int
	for _, part := range strings.Split(v, ".") {
		end := 0
		for end < len(part) && part[end] >= '0' && part[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(part[:end])
		if err != nil {
			break
		}
		out = append(out, n)
		if end < len(part) {
			break
		}
	}
	return out
}
