// Package decisionlog writes one JSON line per decision: the audit trail
// an operator greps to see what nri-guard did, or in audit mode what it
// would have done.
package decisionlog

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/nri-guard/nri-guard/internal/engine"
)

// SchemaVersion is the version of the line format, in every line. It
// grows when a field changes meaning or goes away; new fields may appear
// without it.
const SchemaVersion = 1

// Record is one decision as logged.
type Record struct {
	SchemaVersion int       `json:"schemaVersion"`
	Time          string    `json:"time"`
	Phase         string    `json:"phase"`
	ContainerID   string    `json:"containerID"`
	Namespace     string    `json:"namespace"`
	Pod           string    `json:"pod"`
	Container     string    `json:"container"`
	Image         string    `json:"image"`
	Action        string    `json:"action"`
	Findings      []Finding `json:"findings"`
	Exception     string    `json:"exception,omitempty"`
	Policy        []string  `json:"policy"`
	Message       string    `json:"message,omitempty"`

	// RuntimeHandler is the pod's runtime handler, "" for the default.
	RuntimeHandler string `json:"runtimeHandler,omitempty"`
}

// Finding is one control that fired. Action is what enforce mode does
// (or, under audit, would do).
type Finding struct {
	Control string `json:"control"`
	Field   string `json:"field"`
	Value   string `json:"value"`
	Problem string `json:"problem"`
	Action  string `json:"action"`
	Mode    string `json:"mode"`
	Rule    string `json:"rule"`
	Source  string `json:"source"`
	By      string `json:"plugin,omitempty"`
}

// LineWriter takes one whole line at a time: a File, or a Stream.
type LineWriter interface {
	WriteLine(line []byte) error
}

// Stream writes lines to w (standard output, tests), one Write each.
func Stream(w io.Writer) LineWriter { return stream{w} }

type stream struct{ w io.Writer }

func (s stream) WriteLine(line []byte) error {
	_, err := s.w.Write(append(line, '\n'))
	return err
}

// Log serialises writers: each record is written whole under a lock, so
// lines never interleave.
type Log struct {
	mu  sync.Mutex
	out LineWriter
	now func() time.Time
}

// New returns a decision log writing to out.
func New(out LineWriter) *Log {
	return &Log{out: out, now: time.Now}
}

// SetOutput switches the log to another writer (after a pre-registered
// plugin learned its configuration).
func (l *Log) SetOutput(out LineWriter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out = out
}

// Write logs decision d made in phase (create, validate, synchronize).
// message is the text the client saw, if any.
func (l *Log) Write(phase string, d *engine.Decision, policyFiles []string, message string) error {
	rec := NewRecord(phase, d, policyFiles, message)
	rec.Time = l.now().UTC().Format(time.RFC3339Nano)
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.WriteLine(line)
}

// NewRecord converts a decision to its logged form.
func NewRecord(phase string, d *engine.Decision, policyFiles []string, message string) Record {
	c := d.Container
	rec := Record{
		SchemaVersion: SchemaVersion, Phase: phase, ContainerID: c.ID,
		Namespace: c.Pod.Namespace, Pod: c.Pod.Name, Container: c.Name, Image: c.Image,
		Action: string(d.Action), Findings: []Finding{}, Policy: policyFiles, Message: message,
		RuntimeHandler: c.Pod.RuntimeHandler,
	}
	if d.Exception != nil {
		rec.Exception = d.Exception.Name
	}
	for _, f := range d.Findings {
		rec.Findings = append(rec.Findings, Finding{
			Control: f.Control, Field: f.Field, Value: f.Value, Problem: f.Problem,
			Action: f.Verdict.String(), Mode: string(f.Mode), Rule: f.Rule,
			Source: f.Source.String(), By: f.By,
		})
	}
	return rec
}
