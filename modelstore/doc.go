// Package modelstore is the model ConfigMap protocol, written once for the
// trainer that publishes models and the refiner that serves them: the keys
// (Key, PreviousKey, VersionAnnotation), Publish, Current and Decode (one
// reader, which accepts the model under data or binaryData), and Open, the
// "embedded default or a file" loading every command uses.
//
// It imports classifier, api and the Kubernetes client only; never trainer,
// refiner, webhook, cmd or a test harness.
package modelstore
