package install

import (
	"fmt"
	"io"
	"strings"
)

// writeDiff prints a line diff of two small text files (-/+ lines, with
// the unchanged lines for context), enough to review a dry run.
func writeDiff(w io.Writer, old, new string) {
	a, b := splitLines(old), splitLines(new)
	// lcs[i][j]: length of the longest common subsequence of a[i:], b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			fmt.Fprintf(w, "      %s\n", a[i])
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(w, "    - %s\n", a[i])
			i++
		default:
			fmt.Fprintf(w, "    + %s\n", b[j])
			j++
		}
	}
}

func writeText(w io.Writer, text string) {
	for _, line := range splitLines(text) {
		fmt.Fprintf(w, "    | %s\n", line)
	}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
