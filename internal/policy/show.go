package policy

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// Show writes the effective policy as YAML, each setting followed by the
// file:line it came from, so an operator sees at once which drop-in won.
func (p *Policy) Show(w io.Writer) {
	fmt.Fprintf(w, "# effective nri-guard policy, merged from (in order): %s\n", strings.Join(append(slices.Clone(p.Presets), p.Files...), ", "))
	fmt.Fprintf(w, "apiVersion: %s\nkind: %s\n", APIVersion, Kind)
	for _, warn := range p.SelectorWarnings() {
		fmt.Fprintf(w, "# warning: %s\n", warn)
	}
	line(w, 0, "defaultMode", string(p.DefaultMode.Value), p.DefaultMode.Source)
	fmt.Fprintln(w, "controls:")
	showControls(w, 1, reflect.ValueOf(p.Controls), false)
	if len(p.Exceptions) == 0 {
		fmt.Fprintln(w, "exceptions: []")
		return
	}
	fmt.Fprintln(w, "# exceptions: the most specific match wins (one point per selector used: namespaces,")
	fmt.Fprintln(w, "# pods, containers, images, args, and each label); on a tie, the one merged last wins.")
	fmt.Fprintln(w, "exceptions:")
	for _, e := range p.Exceptions {
		showException(w, e)
	}
}

func showException(w io.Writer, e *CompiledException) {
	fmt.Fprintf(w, "  - name: %-40s # %s, specificity %d\n", e.Name, e.Source, e.Specificity)
	fmt.Fprintln(w, "    match:")
	m := e.Match
	for _, sel := range m.globSelectors() {
		fmt.Fprintf(w, "      %s: %s\n", sel.key, sel.flow())
	}
	if len(m.Labels) > 0 {
		fmt.Fprintln(w, "      labels:")
		for _, k := range sortedKeys(m.Labels) {
			fmt.Fprintf(w, "        %s: %s\n", k, m.Labels[k])
		}
	}
	fmt.Fprintln(w, "    controls:   # only what this exception changes")
	showControls(w, 3, reflect.ValueOf(e.Exception.Controls), true)
}

// showControls prints every control's settings; onlySet skips settings
// the layer did not set (for exceptions).
func showControls(w io.Writer, depth int, v reflect.Value, onlySet bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		ctl := v.Field(i)
		var rows []string
		for j := 0; j < ctl.NumField(); j++ {
			s := ctl.Field(j)
			if onlySet && !s.FieldByName("Set").Bool() {
				continue
			}
			src := s.FieldByName("Source").Interface().(Source)
			rows = append(rows, row(depth+1, yamlName(ctl.Type().Field(j)), flow(s.FieldByName("Value")), src))
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s%s:\n%s", indent(depth), yamlName(t.Field(i)), strings.Join(rows, ""))
	}
}

func line(w io.Writer, depth int, key, value string, src Source) {
	fmt.Fprint(w, row(depth, key, value, src))
}

func row(depth int, key, value string, src Source) string {
	kv := fmt.Sprintf("%s%s: %s", indent(depth), key, value)
	return fmt.Sprintf("%-56s # %s\n", kv, src)
}

func indent(depth int) string { return strings.Repeat("  ", depth) }

// flow renders a value in YAML flow style: scalars bare, lists in [].
func flow(v reflect.Value) string {
	if v.Kind() != reflect.Slice {
		s := fmt.Sprint(v.Interface())
		if s == "" {
			return `""`
		}
		return s
	}
	items := make([]string, v.Len())
	for i := range items {
		items[i] = fmt.Sprint(v.Index(i).Interface())
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// Explain writes which exceptions select w and which one applies.
func (p *Policy) Explain(w io.Writer, wl Workload) {
	matching := p.Matching(wl)
	_, winner := p.For(wl)
	fmt.Fprintf(w, "# workload %s/%s/%s image=%q labels=%v args=%q\n", wl.Namespace, wl.Pod, wl.Container, wl.Image, wl.Labels, wl.Args)
	if len(matching) == 0 {
		fmt.Fprintln(w, "# no exception matches: the node's controls above apply")
		return
	}
	for _, e := range matching {
		mark := "matches"
		if e == winner {
			mark = "APPLIES (most specific, then latest)"
		}
		fmt.Fprintf(w, "# exception %q (%s, specificity %d): %s\n", e.Name, e.Source, e.Specificity, mark)
	}
	fmt.Fprintln(w, "# effective settings for this workload:")
	showControls(w, 0, reflect.ValueOf(winner.Effective), false)
}
