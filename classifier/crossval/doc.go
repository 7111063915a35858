// Package crossval deals examples to cross-validation folds: grouped (a
// group — a pod, or the load scenario it was recorded under — is never on
// both sides of a fold), stratified by class, optionally subsampled, and
// leave-one-class-out splits. It is written once here, over group keys,
// classes and indices, so the classifier's threshold calibration and the
// trainer's evaluation deal the same folds.
//
// It imports only the standard library: classifier imports it, so it must
// not import classifier (or anything else of podclass).
package crossval
