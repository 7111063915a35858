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
	"os"
	"strings"
	"time"
)

// FormatVersion is the model file format this package writes and reads.
// Version 2 added the feature set and the base-set fallback model; version
// 3 stores leaves as sparse class rows (forestJSON).
const FormatVersion = 3

// ErrSchemaMismatch is returned (wrapped) when a model file was built on a
// different feature schema than this binary computes.
var ErrSchemaMismatch = errors.New("model feature schema does not match this binary")

// Manifest is the self-description stored at the top of a model file.
type Manifest struct {
	FormatVersion int `json:"format_version"`
	// ModelVersion is "<UTC timestamp>-<first 12 hex digits of the sha256 of
	// the fitted model>"; the refiner writes it to podclass.io/model.
	ModelVersion  string        `json:"model_version"`
	Created       string        `json:"created"`
	FeatureSchema FeatureSchema `json:"feature_schema"`
	// FeatureSet is the part of the schema this model decides with.
	FeatureSet FeatureSet        `json:"feature_set"`
	Classes    []string          `json:"classes"`
	Families   map[string]string `json:"families"`
	Thresholds Thresholds        `json:"thresholds"`
	Forest     ForestConfig      `json:"forest"`
	Training   TrainingSummary   `json:"training"`
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
	// Fallback decides pods whose window lacks part of this model's
	// feature set: a whole model of its own, with a smaller set.
	Fallback *modelFile `json:"fallback,omitempty"`
}

// savedFile is modelFile as written: the forest is whatever the Model writes.
type savedFile struct {
	Manifest Manifest        `json:"manifest"`
	Impute   []float64       `json:"impute"`
	Forest   json.RawMessage `json:"forest"`
	OOD      *OODGuard       `json:"ood"`
	Fallback json.RawMessage `json:"fallback,omitempty"`
}

// stampVersion sets the model version from the creation time and the hash
// of the fitted model.
func (c *Classifier) stampVersion() {
	sum, err := c.contentHash()
	if err != nil {
		return
	}
	ts := c.manifest.Created
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		ts = t.UTC().Format("20060102T150405Z")
	}
	c.manifest.ModelVersion = ts + "-" + sum[:12]
}

// contentHash hashes what was fitted — forest, imputation values,
// out-of-distribution guard and the fallbacks' own content hashes — and
// nothing of when it was made, so equal trainings hash equal.
func (c *Classifier) contentHash() (string, error) {
	model, err := c.model.MarshalJSON()
	if err != nil {
		return "", err
	}
	var fb string
	if c.fallback != nil {
		if fb, err = c.fallback.contentHash(); err != nil {
			return "", err
		}
	}
	raw, err := json.Marshal(struct {
		F  json.RawMessage
		I  []float64
		O  *OODGuard
		FB string `json:",omitempty"`
	}{model, c.impute, c.ood, fb})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// MarshalJSON writes the model file.
func (c *Classifier) MarshalJSON() ([]byte, error) {
	model, err := c.model.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if c.manifest.ModelVersion == "" {
		c.stampVersion()
	}
	var fb json.RawMessage
	if c.fallback != nil {
		if fb, err = c.fallback.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	return json.Marshal(savedFile{Manifest: c.manifest, Impute: c.impute, Forest: model, OOD: c.ood, Fallback: fb})
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
	c, err = fromFile(&mf)
	if err != nil {
		return nil, err
	}
	prev := c
	for f := mf.Fallback; f != nil; f = f.Fallback {
		fb, err := fromFile(f)
		if err != nil {
			return nil, fmt.Errorf("classifier: fallback model: %w", err)
		}
		if fb.set.rank() >= prev.set.rank() {
			return nil, fmt.Errorf("classifier: a %s-set model cannot fall back to a %s-set one", prev.set, fb.set)
		}
		prev.fallback = fb
		prev = fb
	}
	return c, nil
}

// fromFile builds one classifier (no fallback) from a decoded file.
func fromFile(mf *modelFile) (*Classifier, error) {
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
	if m.FeatureSet != "" && !m.FeatureSet.Valid() {
		return nil, fmt.Errorf("classifier: unknown feature set %q", m.FeatureSet)
	}
	version := m.ModelVersion
	c, err := New(f, mf.Impute, mf.OOD, th, m.Families, m)
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
