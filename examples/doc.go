// Package examples holds podclass's policy examples — a Kyverno ClusterPolicy
// and a Gatekeeper ConstraintTemplate with its constraint, all reading the
// podclass.io/ result annotations — and the test that has each engine's own
// offline CLI (kyverno test, gator verify) evaluate them on the pods in
// testdata/. It has no Go code of its own: the examples are YAML users apply,
// and a policy nobody evaluated is a guess about what an engine answers.
package examples
