// Package classifier tells what kind of service a pod runs from how it
// behaves: a window of samples becomes a fixed feature vector, a bagged
// forest of golearn decision trees scores it, and the decision logic turns
// the scores into an answer with a confidence — a class, a family when only
// the family is sure, or "unknown" when the model should abstain.
//
// Files by role:
//   - window.go: cutting a pod's samples to the window the model reads.
//   - features.go, stats.go: window → feature vector, and its statistics.
//   - decide.go: thresholds, Result, and the decision (Classify).
//   - explain.go: the same decision with its evidence (Explain).
//   - model.go: the Model seam any learner fills; the Classifier never asks
//     which learner it holds.
//   - forest.go, forestjson.go: the compact forest predictor and its part of
//     the model file; fit.go: fitting it with golearn.
//   - train.go, calibrate.go, ood.go: training, threshold calibration and the
//     out-of-distribution guard.
//   - modelfile.go, validate.go: the model file (manifest, save, load, the
//     embedded default) and what a loaded manifest must satisfy.
//
// Cross-validation folds (used here by calibration and by the trainer's
// evaluation) are written once in classifier/crossval, over group keys and
// indices.
//
// The package knows nothing about images, names or namespaces: a model that
// used them would learn the image, not the behaviour. Families come in as
// configuration (a class → family map) so this package does not import the
// image rules. It imports only the samples core (never a store adapter) and
// classifier/crossval; nothing above it (refiner, trainer, cmd) and no test
// harness.
package classifier
