// Package charts holds no code: it is where the Helm chart (charts/podclass)
// is tested — rendered with real helm, installed into a real control plane,
// and compared with what the Go code declares (the webhook configuration,
// RBAC, flags).
//
// Its tests import the harnesses (testenv, tools) and the product packages
// whose declarations they compare; nothing imports it.
package charts
