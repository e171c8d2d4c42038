package layout

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestLayoutsAreAbsoluteAndDistinct: every path is absolute and clean,
// and no two files of one layout share a path.
func TestLayoutsAreAbsoluteAndDistinct(t *testing.T) {
	for name, files := range map[string]Files{"node": Node(), "k3s": K3s()} {
		v := reflect.ValueOf(files)
		seen := map[string]string{}
		for i := 0; i < v.NumField(); i++ {
			field, p := v.Type().Field(i).Name, v.Field(i).String()
			if p == "" || !filepath.IsAbs(p) || filepath.Clean(p) != p {
				t.Errorf("%s: %s = %q is not a clean absolute path", name, field, p)
			}
			if other, dup := seen[p]; dup {
				t.Errorf("%s: %s and %s share %s", name, field, other, p)
			}
			seen[p] = field
		}
	}
}
