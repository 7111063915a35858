package refiner

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LeaderElectionID is the Lease the refiner's replicas compete for.
const LeaderElectionID = "podclass-refiner"

// ManagerOptions returns the manager options the refiner needs: a cache
// without managedFields but the refiner's own entries (pods are watched as
// metadata only, see PodTracker; decidedByRefiner reads who wrote a decision),
// ConfigMaps cached only for the model's, and leader election in namespace.
// Callers add addresses and may turn leader election off.
func ManagerOptions(namespace, modelConfigMap string) ctrl.Options {
	o := ctrl.Options{
		LeaderElection:                true,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       namespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         cache.Options{DefaultTransform: transformKeepDecisionOwner()},
	}
	if modelConfigMap != "" {
		o.Cache.ByObject = map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}: {
				Namespaces: map[string]cache.Config{namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", modelConfigMap),
			},
		}
	}
	return o
}
