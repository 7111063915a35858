// Package trainer builds classifier models from labelled pods: it assembles
// the dataset (a pod list plus a samples.Source), labels pods from an
// explicit class column or unambiguous image rules, evaluates by
// cross-validation grouped by pod, draws reports, and gates publication on
// held-out quality.
//
// Files by job: dataset.go, pods.go, cluster.go (what is trained on);
// folds.go (the folds, dealt by classifier/crossval); evaluate.go (running
// the folds, curves, leave-one-class-out); score.go (accuracy, F1, confusion);
// report.go (the report's schema and writer) and plot.go (its PNGs); train.go
// (fit, evaluate and gate); poison.go (the screen of image-labelled pods
// against training-data poisoning) and reference.go (the reference set the
// gate compares models on, embedded from reference/, written by
// hack/reference); seed2021.go (the predecessor's recordings).
// Publishing and reading the model ConfigMap is modelstore's.
//
// It imports classifier, the samples core and imagerules; never refiner,
// webhook, cmd or a test harness.
package trainer
