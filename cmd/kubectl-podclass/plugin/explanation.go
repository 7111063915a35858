package plugin

import (
	"strconv"
	"strings"
)

// Explanation is the refiner's explanation annotation, read back. The
// refiner writes classifier.Explanation.String():
//
//	<status> <class> p=<confidence> d=<distance>[ [<set> features]][ (predicted <class>)][: <step> → <step> …][; farthest <feature> z=<z>]
//
// cut to 256 characters with "..." at the end. An unclassified pod's
// explanation is a sentence instead ("no usable metrics within 10m0s"):
// Parsed is false and Text holds it.
type Explanation struct {
	Text string `json:"text"`
	// Parsed says the text had the classifier's form; the fields below are
	// set only then.
	Parsed     bool    `json:"parsed"`
	Status     string  `json:"status,omitempty"`
	Class      string  `json:"class,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	// Distance is the out-of-distribution distance over its limit: above 1
	// the pod is unlike the class's training pods.
	Distance float64 `json:"distance,omitempty"`
	// FeatureSet names the features that decided: "process", "base" or "core".
	FeatureSet string `json:"featureSet,omitempty"`
	// Predicted is the most probable class when it is not the answer (the
	// model abstained, or answered the family).
	Predicted string `json:"predicted,omitempty"`
	// Path is the decision path of the tree most sure of the answer.
	Path []PathStep `json:"path,omitempty"`
	// Farthest is the feature farthest from the answer's training pods.
	Farthest *FeatureZ `json:"farthest,omitempty"`
	// Truncated says the annotation was cut at its limit; PathCut that the
	// cut fell in the path, so steps after Path's last are missing (else the
	// cut fell in the farthest feature, which is then missing).
	Truncated bool `json:"truncated,omitempty"`
	PathCut   bool `json:"pathCut,omitempty"`
}

// PathStep is one test on the decision path: Feature's value Op Threshold.
type PathStep struct {
	Feature   string `json:"feature"`
	Value     string `json:"value"`
	Op        string `json:"op"`
	Threshold string `json:"threshold"`
}

func (s PathStep) String() string {
	return s.Feature + " = " + s.Value + " " + s.Op + " " + s.Threshold
}

// FeatureZ is a feature's robust z-score against the answered class.
type FeatureZ struct {
	Feature string `json:"feature"`
	Z       string `json:"z"`
}

const (
	pathArrow   = " → "
	truncMarker = "..."
)

// ParseExplanation reads an explanation annotation. It never fails: text
// not in the classifier's form is returned with Parsed false. Of an
// annotation cut at its limit, the last part (a path step, or the farthest
// feature) is dropped: its number may be cut short.
func ParseExplanation(text string) Explanation {
	e := Explanation{Text: text}
	rest := text
	if strings.HasSuffix(rest, truncMarker) {
		e.Truncated = true
		rest = strings.TrimSuffix(rest, truncMarker)
	}
	// The head ends at the path's ": " or the farthest feature's "; ".
	head, tail := rest, ""
	if i := strings.IndexAny(rest, ":;"); i >= 0 {
		head, tail = rest[:i], rest[i:]
	}
	if (e.Truncated && tail == "") || !e.parseHead(head) {
		// A head is far shorter than the limit: a cut one is no explanation of ours.
		return Explanation{Text: text}
	}
	if path, ok := strings.CutPrefix(tail, ": "); ok {
		path, farthest, _ := strings.Cut(path, "; ")
		e.PathCut = e.Truncated && farthest == ""
		e.Path = parsePath(path, e.PathCut)
		tail = ""
		if farthest != "" {
			tail = "; " + farthest
		}
	}
	if f, ok := strings.CutPrefix(tail, "; farthest "); ok && !e.Truncated {
		name, z, found := strings.Cut(f, " z=")
		if found && name != "" && isNumber(z) {
			e.Farthest = &FeatureZ{Feature: name, Z: z}
		}
	}
	e.Parsed = true
	return e
}

// parseHead reads "<status> <class> p=<p> d=<d>[ [<set> features]][ (predicted <class>)]".
func (e *Explanation) parseHead(head string) bool {
	fields := strings.Fields(head)
	if len(fields) < 4 {
		return false
	}
	p, okP := strings.CutPrefix(fields[2], "p=")
	d, okD := strings.CutPrefix(fields[3], "d=")
	if !okP || !okD {
		return false
	}
	var err error
	if e.Confidence, err = strconv.ParseFloat(p, 64); err != nil {
		return false
	}
	if e.Distance, err = strconv.ParseFloat(d, 64); err != nil {
		return false
	}
	e.Status, e.Class = fields[0], fields[1]
	rest := fields[4:]
	if len(rest) >= 2 && strings.HasPrefix(rest[0], "[") && rest[1] == "features]" {
		e.FeatureSet = strings.TrimPrefix(rest[0], "[")
		rest = rest[2:]
	}
	if len(rest) >= 2 && rest[0] == "(predicted" && strings.HasSuffix(rest[1], ")") {
		e.Predicted = strings.TrimSuffix(rest[1], ")")
		rest = rest[2:]
	}
	return len(rest) == 0
}

// parsePath reads "f=v<=t → f=v>t …"; when cut is set the last step is
// dropped: it may be incomplete.
func parsePath(path string, cut bool) []PathStep {
	parts := strings.Split(path, pathArrow)
	if cut {
		parts = parts[:len(parts)-1]
	}
	steps := make([]PathStep, 0, len(parts))
	for _, p := range parts {
		s, ok := parseStep(p)
		if !ok {
			// Not the classifier's form: keep the text as the feature.
			s = PathStep{Feature: p}
		}
		steps = append(steps, s)
	}
	return steps
}

// parseStep reads "feature=value<=threshold" or "feature=value>threshold".
func parseStep(s string) (PathStep, bool) {
	name, cond, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return PathStep{}, false
	}
	for _, op := range []string{"<=", ">"} {
		if v, t, found := strings.Cut(cond, op); found && isNumber(v) && isNumber(t) {
			return PathStep{Feature: name, Value: v, Op: op, Threshold: t}, true
		}
	}
	return PathStep{}, false
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
