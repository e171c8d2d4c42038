package kubepod

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pod is one pod as a workload manifest describes it: a Pod, or the pod
// template of a Deployment, DaemonSet, StatefulSet, ReplicaSet, Job,
// CronJob or PodTemplate.
type Pod struct {
	// Source is "file:line" of the document, for the report.
	Source string
	// Kind and Name are the manifest's (e.g. Deployment web).
	Kind, Name string
	Meta       metadata
	Spec       podSpec
}

// Error is a manifest problem with its position.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// maxDocuments bounds a multi-document stream: a manifest bundle has a few
// dozen, and an endless stream of empty documents must not spin forever.
const maxDocuments = 10000

// Decode reads every document of a (multi-document) YAML manifest, or a
// List of objects, and returns the pods it describes. Documents of other kinds (Service,
// ConfigMap, ...) are skipped; a document that is not a Kubernetes object
// at all, or a workload with a malformed field, is an error with the file
// and line.
func Decode(file string, data []byte) ([]Pod, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var pods []Pod
	for i := 0; ; i++ {
		if i == maxDocuments {
			return nil, &Error{File: file, Msg: fmt.Sprintf("more than %d YAML documents", maxDocuments)}
		}
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(file, 0, err)
		}
		more, err := podsOf(file, &doc)
		if err != nil {
			return nil, err
		}
		pods = append(pods, more...)
	}
	if len(pods) == 0 {
		return nil, &Error{File: file, Msg: "no Pod or workload with a pod template (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, CronJob, PodTemplate) found"}
	}
	return pods, nil
}

// podsOf decodes one document.
func podsOf(file string, doc *yaml.Node) ([]Pod, error) {
	if len(doc.Content) == 0 {
		return nil, nil // an empty document between two "---"
	}
	return podsOfNode(file, doc.Content[0], 0)
}

// maxListDepth bounds Lists of Lists.
const maxListDepth = 4

// podsOfNode decodes one object; a List (what `kubectl get -o yaml`
// prints) contributes the pods of its items.
func podsOfNode(file string, root *yaml.Node, depth int) ([]Pod, error) {
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Msg: "a manifest document must be a mapping (apiVersion, kind, metadata, spec)"}
	}
	var obj object
	if err := root.Decode(&obj); err != nil {
		return nil, yamlError(file, root.Line, err)
	}
	if obj.Kind == "" || obj.APIVersion == "" {
		return nil, &Error{File: file, Line: root.Line, Msg: "not a Kubernetes object: apiVersion and kind are required"}
	}
	if obj.Kind == "List" && depth < maxListDepth {
		return listItems(file, root, depth)
	}
	src := fmt.Sprintf("%s:%d", file, root.Line)
	tmpl, ok := podTemplate(&obj)
	if !ok {
		return nil, nil
	}
	if tmpl == nil {
		return nil, &Error{File: file, Line: root.Line, Msg: obj.Kind + " without a pod template (spec.template)"}
	}
	return []Pod{{Source: src, Kind: obj.Kind, Name: obj.Metadata.Name, Meta: podMeta(&obj, tmpl), Spec: tmpl.Spec}}, nil
}

func listItems(file string, root *yaml.Node, depth int) ([]Pod, error) {
	var pods []Pod
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "items" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range root.Content[i+1].Content {
			more, err := podsOfNode(file, item, depth+1)
			if err != nil {
				return nil, err
			}
			pods = append(pods, more...)
		}
	}
	return pods, nil
}

// podTemplate finds the pod a workload kind runs; ok is false for kinds
// that run no pods.
func podTemplate(obj *object) (tmpl *template, ok bool) {
	switch obj.Kind {
	case "Pod":
		return &template{Metadata: obj.Metadata, Spec: obj.Spec.podSpec}, true
	case "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job":
		return obj.Spec.Template, true
	case "CronJob":
		if obj.Spec.JobTemplate == nil {
			return nil, true
		}
		return obj.Spec.JobTemplate.Spec.Template, true
	case "PodTemplate":
		return obj.Template, true
	}
	return nil, false
}

// podMeta is the metadata the pod will have: the template's labels and
// annotations, the workload's namespace, and a name like the controller
// would give it (the workload's name plus a suffix).
func podMeta(obj *object, tmpl *template) metadata {
	m := tmpl.Metadata
	m.Namespace = obj.Metadata.Namespace
	if obj.Kind != "Pod" {
		m.Name = obj.Metadata.Name + "-" + podSuffix[obj.Kind]
	}
	if m.Name == "" {
		m.Name = strings.TrimSuffix(m.GenerateName, "-") + "-x"
	}
	if m.Namespace == "" {
		m.Namespace = "default"
	}
	return m
}

// podSuffix imitates the names controllers give pods, so exceptions that
// select "coredns-*" match the Deployment coredns as they will on the node.
var podSuffix = map[string]string{
	"Deployment": "5d8f7c9b6d-abcde", "ReplicaSet": "abcde", "ReplicationController": "abcde",
	"DaemonSet": "abcde", "StatefulSet": "0", "Job": "abcde", "CronJob": "28000000-abcde",
	"PodTemplate": "abcde",
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlError turns a yaml.v3 error into file:line errors, one per problem.
func yamlError(file string, fallback int, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	line := fallback
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.Replace(msg, m[0], "", 1)
	}
	msg = strings.ReplaceAll(msg, "\n  line ", fmt.Sprintf("\n%s:", file))
	return &Error{File: file, Line: line, Msg: msg}
}
