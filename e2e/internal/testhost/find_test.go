package testhost

import "testing"

func TestNamesPath(t *testing.T) {
	const root = "/tmp/nrig-ab12"
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"containerd", "--root", root}, true},
		{[]string{"containerd", "--config", root + "/config.toml"}, true},
		{[]string{"kubelet", "--root-dir=" + root + "/kubelet"}, true},
		{[]string{"containerd", "--root", root + "9"}, false},
		{[]string{"sh", "-c", "ls " + root}, false},
		{[]string{"tool", "x=" + root}, false},
		{nil, false},
	} {
		if got := NamesPath(c.args, root); got != c.want {
			t.Errorf("NamesPath(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}
