// Package plugin is `kubectl podclass`: get, explain and stats over the
// podclass.io/ annotations the webhook and the refiner write on pods, and
// the Events the refiner records about them.
//
// It reads what podclass publishes — the keys of package api, the
// explanation annotation's text, the Events — as any client would: it
// imports api only of podclass (never the classifier, refiner or webhook, so
// the plugin links none of them) and talks to the apiserver with the user's
// kubeconfig through k8s.io/cli-runtime's ConfigFlags (--kubeconfig,
// --context, -n, …, as kubectl). Listing reads pod metadata only.
//
// It must not import a test harness (internal/harness).
package plugin
