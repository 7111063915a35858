package classifier

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// FormatVersion is the model file format this package writes and reads.
const FormatVersion = 1

// ErrSchemaMismatch is returned (wrapped) when a model file was built on a
// different feature schema than this binary computes.
var ErrSchemaMismatch = errors.New("model feature schema does not match this binary")

// Manifest is the self-description stored at the top of a model file.
type Manifest struct {
	FormatVersion int `json:"format_version"`
	// ModelVersion is "<UTC timestamp>-<first 12 hex digits of the sha256 of
	// the fitted model>"; the refiner writes it to podclass.io/model.
	ModelVersion  string            `json:"model_version"`
	Created       string            `json:"created"`
	FeatureSchema FeatureSchema     `json:"feature_schema"`
	Classes       []string          `json:"classes"`
	Families      map[string]string `json:"families"`
	Thresholds    Thresholds        `json:"thresholds"`
	Forest        ForestConfig      `json:"forest"`
	Training      TrainingSummary   `json:"training"`
	// Calibration says how the thresholds were chosen (nil: as configured).
	Calibration *Calibration `json:"calibration,omitempty"`
	// Evaluation holds the trainer's held-out evaluation (pod-grouped
	// cross-validation) as it printed it.
	Evaluation json.RawMessage `json:"evaluation,omitempty"`
}

// TrainingSummary counts the data a model was fitted on.
type TrainingSummary struct {
	Pods     int                     `json:"pods"`
	Samples  int                     `json:"samples"`
	Windows  int                     `json:"windows"`
	PerClass map[string]ClassSummary `json:"per_class"`
}

// ClassSummary counts one class's training data.
type ClassSummary struct {
	Pods    int `json:"pods"`
	Samples int `json:"samples"`
	Windows int `json:"windows"`
}

type modelFile struct {
	Manifest Manifest    `json:"manifest"`
	Impute   []float64   `json:"impute"`
	Forest   *forestJSON `json:"forest"`
	OOD      *OODGuard   `json:"ood"`
}

type forestJSON struct {
	Roots     []int32   `json:"roots"`
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int32   `json:"left"`
	Right     []int32   `json:"right"`
	Count     []int32   `json:"count"`
	Probs     []float32 `json:"probs"`
}

func (f *Forest) toJSON() *forestJSON {
	j := &forestJSON{Roots: f.roots, Count: f.counts, Probs: f.probs}
	for _, n := range f.nodes {
		j.Feature = append(j.Feature, n.feature)
		j.Threshold = append(j.Threshold, n.threshold)
		j.Left = append(j.Left, n.left)
		j.Right = append(j.Right, n.right)
	}
	return j
}

// forestFromJSON validates a stored forest: every index in range, every
// child after its parent (so traversal always terminates), every leaf's
// probabilities finite.
func forestFromJSON(j *forestJSON, classes []string, nfeat int) (*Forest, error) {
	if j == nil {
		return nil, errors.New("no forest")
	}
	n := len(j.Feature)
	if len(j.Threshold) != n || len(j.Left) != n || len(j.Right) != n || len(j.Count) != n {
		return nil, errors.New("forest node arrays differ in length")
	}
	if len(j.Roots) == 0 {
		return nil, errors.New("forest has no trees")
	}
	k := len(classes)
	f := &Forest{classes: classes, nfeat: nfeat, roots: j.Roots, probs: j.Probs, counts: j.Count, nodes: make([]node, n)}
	for _, r := range j.Roots {
		if r < 0 || int(r) >= n {
			return nil, fmt.Errorf("tree root %d out of range", r)
		}
	}
	for i := 0; i < n; i++ {
		nd := node{feature: j.Feature[i], threshold: j.Threshold[i], left: j.Left[i], right: j.Right[i]}
		if nd.feature < 0 {
			if nd.feature != -1 || nd.left < 0 || int(nd.left)+k > len(j.Probs) {
				return nil, fmt.Errorf("leaf %d has no probabilities", i)
			}
			nd.right = -1
		} else {
			if int(nd.feature) >= nfeat {
				return nil, fmt.Errorf("node %d splits on feature %d of %d", i, nd.feature, nfeat)
			}
			if !finite(nd.threshold) {
				return nil, fmt.Errorf("node %d threshold is not finite", i)
			}
			if int(nd.left) <= i || int(nd.right) <= i || int(nd.left) >= n || int(nd.right) >= n {
				return nil, fmt.Errorf("node %d children out of order", i)
			}
		}
		f.nodes[i] = nd
	}
	for i, p := range j.Probs {
		if math.IsNaN(float64(p)) || p < 0 || p > 1 {
			return nil, fmt.Errorf("leaf probability %d is %v", i, p)
		}
	}
	return f, nil
}

// stampVersion sets the model version from the creation time and the hash
// of the fitted model.
func (c *Classifier) stampVersion() {
	f, ok := c.model.(*Forest)
	if !ok {
		return
	}
	raw, _ := json.Marshal(struct {
		F *forestJSON
		I []float64
		O *OODGuard
	}{f.toJSON(), c.impute, c.ood})
	sum := sha256.Sum256(raw)
	ts := c.manifest.Created
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		ts = t.UTC().Format("20060102T150405Z")
	}
	c.manifest.ModelVersion = ts + "-" + hex.EncodeToString(sum[:])[:12]
}

// MarshalJSON writes the model file.
func (c *Classifier) MarshalJSON() ([]byte, error) {
	f, ok := c.model.(*Forest)
	if !ok {
		return nil, fmt.Errorf("classifier: cannot save a %T model", c.model)
	}
	if c.manifest.ModelVersion == "" {
		c.stampVersion()
	}
	return json.Marshal(modelFile{Manifest: c.manifest, Impute: c.impute, Forest: f.toJSON(), OOD: c.ood})
}

// Save writes the model file to path (atomically: a temporary file renamed).
func (c *Classifier) Save(path string) error {
	raw, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Load reads a model file. It fails with a clear error — never a panic — on
// malformed input, an unknown format version, or a feature schema other than
// CurrentSchema (wrapping ErrSchemaMismatch).
func Load(data []byte) (c *Classifier, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("classifier: malformed model: %v", r)
		}
	}()
	var mf modelFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&mf); err != nil {
		return nil, fmt.Errorf("classifier: model file is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("classifier: trailing data after model")
	}
	m := mf.Manifest
	if m.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("classifier: model format version %d, this binary reads %d", m.FormatVersion, FormatVersion)
	}
	cur := CurrentSchema()
	if m.FeatureSchema.Name != cur.Name || m.FeatureSchema.Version != cur.Version || strings.Join(m.FeatureSchema.Names, ",") != strings.Join(cur.Names, ",") {
		return nil, fmt.Errorf("classifier: %w: model uses %s/%s (%d features), binary computes %s/%s (%d features); retrain the model",
			ErrSchemaMismatch, m.FeatureSchema.Name, m.FeatureSchema.Version, len(m.FeatureSchema.Names), cur.Name, cur.Version, len(cur.Names))
	}
	if len(m.Classes) < 1 {
		return nil, errors.New("classifier: model has no classes")
	}
	seen := map[string]bool{}
	for _, cl := range m.Classes {
		if cl == "" || cl == Unknown || seen[cl] {
			return nil, fmt.Errorf("classifier: bad or duplicate class %q", cl)
		}
		seen[cl] = true
	}
	if len(mf.Impute) != NumFeatures {
		return nil, fmt.Errorf("classifier: %d imputation values, want %d", len(mf.Impute), NumFeatures)
	}
	for _, v := range mf.Impute {
		if !finite(v) {
			return nil, errors.New("classifier: imputation value is not finite")
		}
	}
	th := m.Thresholds
	if !finite(th.Class) || !finite(th.Family) || !finite(th.OODMargin) || th.WindowSamples < 0 || th.MinSamples < 0 {
		return nil, errors.New("classifier: bad thresholds")
	}
	if err := validateManifest(m); err != nil {
		return nil, err
	}
	f, err := forestFromJSON(mf.Forest, m.Classes, NumFeatures)
	if err != nil {
		return nil, fmt.Errorf("classifier: bad forest: %w", err)
	}
	if mf.OOD == nil {
		return nil, errors.New("classifier: model has no out-of-distribution guard")
	}
	version := m.ModelVersion
	c, err = New(f, mf.Impute, mf.OOD, th, m.Families, m)
	if err != nil {
		return nil, err
	}
	c.manifest.ModelVersion = version
	return c, nil
}

// LoadFile reads a model file from disk.
func LoadFile(path string) (*Classifier, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	c, err := Load(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

//go:embed default_model.json
var defaultModel []byte

// DefaultModelJSON is the embedded default model file, trained on the
// project's corpus (see docs/evaluation.md); the chart ships the same file.
func DefaultModelJSON() []byte { return defaultModel }

// Default loads the embedded default model.
func Default() (*Classifier, error) {
	c, err := Load(defaultModel)
	if err != nil {
		return nil, fmt.Errorf("embedded default model: %w", err)
	}
	return c, nil
}
