package classifier

// Model scores one feature vector: the probability of each class, in the
// order of Classes(). It is the seam where the learner can be swapped; the
// decision logic (thresholds, families, out-of-distribution guard) lives in
// Classifier and works with any Model.
type Model interface {
	Classes() []string
	Predict(features []float64) ([]float64, error)
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

// intoPredictor is implemented by models that predict without allocating.
type intoPredictor interface {
	PredictInto(dst, features []float64) error
}
