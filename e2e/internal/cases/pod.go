package cases

import (
	"fmt"
	"maps"
	"slices"
)

// The container's name in every case's pod: decision checks look for it.
const containerName = "c1"

// DefaultImage is the image a case's container runs unless it names one.
const DefaultImage = "localhost/e2e/busybox:1"

// KubePod is the Kubernetes pod whose CRI configuration, as the kubelet
// makes it, is the case's: the field of the pod API that the kubelet
// turns into each CRI field the case sets. A CRI field with no pod field
// behind it is an error naming it, so a new case cannot be applied with
// kubectl as something else than it says. The mapping is the kubelet's
// (pkg/kubelet/kuberuntime): seccomp RuntimeDefault/Unconfined/Localhost
// are profile types 0/1/2; a pid namespace of the node is hostPID, one
// of the pod's shareProcessNamespace; hostUsers: false is a user
// namespace of the pod's, with the kubelet's own ID range; an empty
// masked and read-only path list is procMount: Unmasked, which the API
// takes only with hostUsers: false.
func (c *File) KubePod(name string) (map[string]any, error) {
	t := &translation{
		container: map[string]any{"name": containerName, "image": DefaultImage, "imagePullPolicy": "Never",
			"command": []any{"sleep", "3600"}},
		pod: map[string]any{
			"terminationGracePeriodSeconds": 0, "restartPolicy": "Never",
			// what crictl's pods lack: a service account token and the
			// Services' environment
			"automountServiceAccountToken": false, "enableServiceLinks": false,
		},
		podSecurity:       map[string]any{},
		containerSecurity: map[string]any{},
	}
	if c.HostNetwork {
		t.pod["hostNetwork"] = true
	}
	if err := t.podConfig(c.Pod); err != nil {
		return nil, fmt.Errorf("case %s: pod.%v", c.Name, err)
	}
	if err := t.containerConfig(c.Container); err != nil {
		return nil, fmt.Errorf("case %s: container.%v", c.Name, err)
	}
	if len(t.containerSecurity) > 0 {
		t.container["securityContext"] = t.containerSecurity
	}
	if len(t.podSecurity) > 0 {
		t.pod["securityContext"] = t.podSecurity
	}
	t.pod["containers"] = []any{t.container}
	if len(t.volumes) > 0 {
		t.pod["volumes"] = t.volumes
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": c.Namespace},
		"spec":     t.pod,
	}, nil
}

type translation struct {
	pod, container, podSecurity, containerSecurity map[string]any
	volumes                                        []any
}

// fields reads a CRI object: each key must be one of want's, whose
// function takes its value. Its error names the field's path.
func fields(obj any, want map[string]func(any) error) error {
	if obj == nil {
		return nil
	}
	m, ok := obj.(map[string]any)
	if !ok {
		return fmt.Errorf("not an object")
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		take, ok := want[k]
		if !ok {
			return &fieldError{k, "no pod field makes it"}
		}
		if err := take(m[k]); err != nil {
			if inner, ok := err.(*fieldError); ok {
				return &fieldError{k + "." + inner.path, inner.problem}
			}
			return &fieldError{k, err.Error()}
		}
	}
	return nil
}

// fieldError is a CRI field that no pod makes, by its path.
type fieldError struct{ path, problem string }

func (e *fieldError) Error() string { return e.path + ": " + e.problem }

func (t *translation) podConfig(pod map[string]any) error {
	return fields(pod, map[string]func(any) error{
		"linux": func(v any) error {
			return fields(v, map[string]func(any) error{
				"sysctls": func(v any) error {
					m, _ := v.(map[string]any)
					var list []any
					for _, k := range slices.Sorted(maps.Keys(m)) {
						list = append(list, map[string]any{"name": k, "value": fmt.Sprint(m[k])})
					}
					t.podSecurity["sysctls"] = list
					return nil
				},
				"security_context": func(v any) error {
					return fields(v, map[string]func(any) error{
						// The kubelet makes the sandbox privileged when a
						// container is: the container says it.
						"privileged":        func(any) error { return nil },
						"namespace_options": t.namespaces,
					})
				},
			})
		},
	})
}

func (t *translation) containerConfig(ctr map[string]any) error {
	return fields(ctr, map[string]func(any) error{
		"image": func(v any) error {
			return fields(v, map[string]func(any) error{
				"image": func(v any) error { t.container["image"] = v; return nil },
			})
		},
		"command":     func(v any) error { t.container["command"] = v; return nil },
		"args":        func(v any) error { t.container["args"] = v; return nil },
		"working_dir": func(v any) error { t.container["workingDir"] = v; return nil },
		"mounts":      t.mounts,
		"linux": func(v any) error {
			return fields(v, map[string]func(any) error{"security_context": t.containerSecurityContext})
		},
	})
}

func (t *translation) containerSecurityContext(v any) error {
	sc := t.containerSecurity
	set := func(key string) func(any) error { return func(v any) error { sc[key] = v; return nil } }
	value := func(key string) func(any) error {
		return func(v any) error {
			return fields(v, map[string]func(any) error{"value": set(key)})
		}
	}
	return fields(v, map[string]func(any) error{
		"privileged":      set("privileged"),
		"readonly_rootfs": set("readOnlyRootFilesystem"),
		"run_as_non_root": set("runAsNonRoot"),
		"run_as_user":     value("runAsUser"),
		"run_as_group":    value("runAsGroup"),
		"no_new_privs": func(v any) error {
			if v == true {
				sc["allowPrivilegeEscalation"] = false
			}
			return nil
		},
		"supplemental_groups": func(v any) error { t.podSecurity["supplementalGroups"] = v; return nil },
		"capabilities": func(v any) error {
			caps := map[string]any{}
			sc["capabilities"] = caps
			return fields(v, map[string]func(any) error{
				"add_capabilities":  func(v any) error { caps["add"] = v; return nil },
				"drop_capabilities": func(v any) error { caps["drop"] = v; return nil },
			})
		},
		"seccomp":           t.seccomp,
		"masked_paths":      t.unmasked,
		"readonly_paths":    t.unmasked,
		"namespace_options": t.namespaces,
	})
}

func (t *translation) seccomp(v any) error {
	profile := map[string]any{}
	t.containerSecurity["seccompProfile"] = profile
	return fields(v, map[string]func(any) error{
		"profile_type": func(v any) error {
			kinds := []string{"RuntimeDefault", "Unconfined", "Localhost"}
			n, ok := v.(float64)
			if !ok || n < 0 || int(n) >= len(kinds) {
				return fmt.Errorf("profile type %v", v)
			}
			profile["type"] = kinds[int(n)]
			return nil
		},
		"localhost_ref": func(v any) error { profile["localhostProfile"] = v; return nil },
	})
}

// unmasked takes an empty masked or read-only path list: what the
// kubelet sends for procMount: Unmasked. Any other list is no pod's.
func (t *translation) unmasked(v any) error {
	if list, ok := v.([]any); !ok || len(list) != 0 {
		return fmt.Errorf("%v: only an empty list (procMount: Unmasked) comes from a pod", v)
	}
	t.containerSecurity["procMount"] = "Unmasked"
	t.pod["hostUsers"] = false
	return nil
}

// namespaces reads CRI's namespace options, of the pod or a container
// (the kubelet gives both the same): NODE (2) is the node's namespace,
// POD (0) the pod's, CONTAINER (1) the default for pid.
func (t *translation) namespaces(v any) error {
	mode := func(v any) (int, error) {
		n, ok := v.(float64)
		if !ok || n < 0 || n > 3 {
			return 0, fmt.Errorf("namespace mode %v", v)
		}
		return int(n), nil
	}
	return fields(v, map[string]func(any) error{
		"network": func(v any) error {
			n, err := mode(v)
			if n == 2 {
				t.pod["hostNetwork"] = true
			}
			return err
		},
		"pid": func(v any) error {
			n, err := mode(v)
			switch n {
			case 2:
				t.pod["hostPID"] = true
			case 0:
				t.pod["shareProcessNamespace"] = true
			}
			return err
		},
		// The kubelet picks the pod's ID range itself: a pod can ask
		// for a user namespace, not for its mapping.
		"userns_options": func(v any) error {
			m, _ := v.(map[string]any)
			if n, err := mode(m["mode"]); err != nil || n != 0 {
				return fmt.Errorf("user namespace mode %v: only POD (0) comes from a pod", m["mode"])
			}
			t.pod["hostUsers"] = false
			return nil
		},
	})
}

// mounts turns CRI's host path mounts into hostPath volumes, each
// DirectoryOrCreate (the crictl suite makes its directories itself).
func (t *translation) mounts(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("not a list")
	}
	var mounts []any
	for i, item := range list {
		mount := map[string]any{"name": fmt.Sprintf("v%d", i)}
		volume := map[string]any{"type": "DirectoryOrCreate"}
		err := fields(item, map[string]func(any) error{
			"host_path":      func(v any) error { volume["path"] = v; return nil },
			"container_path": func(v any) error { mount["mountPath"] = v; return nil },
			"readonly":       func(v any) error { mount["readOnly"] = v; return nil },
		})
		if err != nil {
			return err
		}
		mounts = append(mounts, mount)
		t.volumes = append(t.volumes, map[string]any{"name": mount["name"], "hostPath": volume})
	}
	t.container["volumeMounts"] = mounts
	return nil
}
