package classifier

import "errors"

// Model scores one feature vector: the probability of each class, in the
// order of Classes(). It is the seam where the learner can be swapped; the
// decision logic (thresholds, families, out-of-distribution guard) lives in
// Classifier and works with any Model.
//
// A Model also shows its reasoning and writes itself: Explain asks BestPath
// for the evidence behind a class, and the model file holds what
// MarshalJSON writes. The Classifier never asks which learner it holds.
type Model interface {
	Classes() []string
	Predict(features []float64) ([]float64, error)
	// BestPath is the decision path most in favour of class for the
	// (imputed) features, or nil when the model has none to show.
	BestPath(features []float64, names []string, class string) *TreePath
	// MarshalJSON writes the model's part of the model file; a model that
	// cannot be saved returns an error.
	MarshalJSON() ([]byte, error)
}

// ModelFunc adapts a function to Model for tests and experiments.
type ModelFunc struct {
	Labels []string
	Func   func(features []float64) ([]float64, error)
}

var _ Model = ModelFunc{}

// Classes returns the labels.
func (m ModelFunc) Classes() []string { return m.Labels }

// Predict calls Func.
func (m ModelFunc) Predict(x []float64) ([]float64, error) { return m.Func(x) }

// BestPath is nil: a function has no path to show.
func (m ModelFunc) BestPath([]float64, []string, string) *TreePath { return nil }

// MarshalJSON fails: a function cannot be saved.
func (m ModelFunc) MarshalJSON() ([]byte, error) {
	return nil, errors.New("classifier: cannot save a ModelFunc model")
}
