package profiles

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// syscallsTxt is the table of known system call names. It is data, not
// code, so that updating it for a new kernel is a reviewable text diff.
//
//go:embed syscalls.txt
var syscallsTxt []byte

// TableArches are the architectures syscalls.txt records, as it spells
// them.
var TableArches = []string{"x86_64", "x32", "x86", "aarch64", "arm"}

// syscallTable parses syscalls.txt once. The file is embedded at build
// time and a test parses it, so a malformed table cannot reach a node.
var syscallTable = sync.OnceValue(func() map[string][]string {
	t, err := parseSyscallTable(syscallsTxt)
	if err != nil {
		panic(err)
	}
	return t
})

// Syscalls returns every known system call name, mapped to the
// architectures of TableArches whose kernel tables have it. A name that
// exists only on other architectures maps to an empty list. The result is
// a copy the caller may change.
func Syscalls() map[string][]string {
	out := make(map[string][]string, len(syscallTable()))
	for name, arches := range syscallTable() {
		out[name] = slices.Clone(arches)
	}
	return out
}

// IsKnownSyscall reports whether name is in the table.
func IsKnownSyscall(name string) bool {
	_, ok := syscallTable()[name]
	return ok
}

func parseSyscallTable(data []byte) (map[string][]string, error) {
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, arches, err := parseSyscallLine(line)
		if err != nil {
			return nil, fmt.Errorf("syscalls.txt:%d: %w", n, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("syscalls.txt:%d: %q listed twice", n, name)
		}
		out[name] = arches
	}
	return out, sc.Err()
}

// parseSyscallLine reads "name arch arch ..." or "name -".
func parseSyscallLine(line string) (string, []string, error) {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return "", nil, fmt.Errorf("want a name and its architectures (or -), got %q", line)
	}
	name, arches := fields[0], fields[1:]
	if len(arches) == 1 && arches[0] == "-" {
		return name, []string{}, nil
	}
	for _, a := range arches {
		if !slices.Contains(TableArches, a) {
			return "", nil, fmt.Errorf("%s: unknown architecture %q", name, a)
		}
	}
	return name, arches, nil
}

// suggestSyscall returns the known name closest to a misspelt one, or ""
// when none is close enough to be a likely typo.
func suggestSyscall(name string) string {
	best, bestDist := "", 3
	for _, known := range syscallNames() {
		if d := editDistance(name, known, bestDist); d < bestDist {
			best, bestDist = known, d
		}
	}
	return best
}

// syscallNames lists the table's names sorted, so suggestions are
// deterministic.
var syscallNames = sync.OnceValue(func() []string {
	return slices.Sorted(maps.Keys(syscallTable()))
})

// editDistance is the Levenshtein distance between a and b, or limit when
// it is at least limit (to keep the search over all names cheap).
func editDistance(a, b string, limit int) int {
	if abs(len(a)-len(b)) >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
