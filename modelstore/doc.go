// Package modelstore is the model ConfigMap protocol, written once for the
// trainer that publishes models and the refiner that serves them: the keys
// (GzipKey, Key, PreviousGzipKey, VersionAnnotation, DigestAnnotation),
// Publish (gzip-compressed, so a model and the one it replaced fit the 1 MiB
// ConfigMap), Data, Decode and Current (one reader, which accepts gzip under
// binaryData or plain JSON under data or binaryData), Verify, and Open, the
// "embedded default or a file" loading every command uses.
//
// It imports classifier, api and the Kubernetes client only; never trainer,
// refiner, webhook, cmd or a test harness.
package modelstore
