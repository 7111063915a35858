// Package certs keeps the webhook's serving certificate when no cert-manager
// is installed ("self-managed" mode): it creates a CA and a serving
// certificate in a Secret, makes the MutatingWebhookConfiguration trust the
// CA, writes the pair to the directory controller-runtime's certwatcher reads,
// and renews both before they expire — without a restart.
//
// Every replica runs the same loop and the Secret is the source of truth:
// writes to it are guarded by its resourceVersion, so when two replicas
// renew at once one wins and the other adopts its result.
//
// Two orderings keep the apiserver able to call every replica throughout a
// rotation:
//   - a replica writes a certificate to disk only after the webhook
//     configuration's caBundle holds the CA that signed it, and publishes
//     the pair with one symlink swap (as the kubelet does for Secret
//     volumes), so certwatcher never reads a new key with an old certificate;
//   - a new CA is added to the trust bundle next to the old one, which stays
//     until it expires, so replicas still serving a certificate of the old CA
//     are trusted until they pick up the new one.
//
// github.com/open-policy-agent/cert-controller's rotator builds against
// controller-runtime v0.23, but it relies on the kubelet refreshing a mounted
// Secret (a minute or more, with no ordering against the caBundle), replaces
// the CA and the bundle in one step (calls to replicas still on the old
// certificate fail in between), and needs list/watch on every webhook
// configuration and every Secret of the namespace. This package needs get and
// patch on one webhook configuration and get/create/update on one Secret.
//
// It imports nothing of podclass; cmd/podclass and the demo import it.
package certs
