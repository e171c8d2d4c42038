package view

import "github.com/nri-guard/nri-guard/internal/subpath"

// ResolveSubPath replaces the source of a kubelet subPath bind with the
// host path it shows, so controls judge what the container really gets
// (see package subpath). Without a resolver, or when the mount table does
// not tell, the mount is marked Unresolved.
func ResolveSubPath(m *Mount, resolve func(string) (string, error)) {
	if !m.IsBind() || !subpath.IsKubeletSubPath(m.Source) {
		return
	}
	m.Via = m.Source
	if resolve == nil {
		m.Unresolved = "this caller cannot read the node's mount table"
		return
	}
	host, err := resolve(m.Source)
	if err != nil {
		m.Unresolved = err.Error()
		return
	}
	m.Source = host
}
