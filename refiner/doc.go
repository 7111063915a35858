// Package refiner turns the webhook's image guesses into behaviour-based
// answers. It keeps the set of pending pods in step with a pod informer and,
// once per tick, reads the metrics of all of them in batched queries,
// classifies those with enough samples and patches their annotations.
//
// One tick serves every waiting pod: the metrics store sees one query per
// batch of pods (500 by default) per tick, never one per pod, and the API
// server sees one patch per decided pod and no polling — the informer is the
// only reader of pods.
//
// It imports classifier, modelstore, api and the samples core; the metrics
// store comes in as a samples.Source, so no store adapter is linked here. It
// never imports trainer, webhook, cmd or a test harness.
package refiner
