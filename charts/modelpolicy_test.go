package charts_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/modelstore"
)

// TestOnlyTheTrainerWritesTheModelDigest: a namespace admin of the release
// namespace can edit the model ConfigMap, but not the digest the trainer
// records with each model, so the refiner (--require-model-digest,
// TestTheRefinerServesOnlyModelsTheTrainerPublished) serves only what the
// trainer published. Through the real apiserver and the chart's policy.
func TestOnlyTheTrainerWritesTheModelDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := installChart(t)
	ctx := context.Background()
	const user, cmName = "ns-admin", "podclass-model"
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: "configmap-editor"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "create", "update", "patch", "delete"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: "configmap-editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	admin := impersonating(t, env, rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}})
	trainer := impersonating(t, env, rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + releaseNamespace + ":podclass-trainer",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace, "system:authenticated"},
	})
	key := client.ObjectKey{Namespace: releaseNamespace, Name: cmName}
	// The chart ships no model (the refiner serves its embedded default):
	// the trainer's first publication creates the ConfigMap.
	first, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := modelstore.Publish(ctx, trainer, releaseNamespace, cmName, first); err != nil {
		t.Fatalf("the trainer's first publication: %v", err)
	}
	edit := func(c client.Client, fn func(*corev1.ConfigMap)) error {
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, key, cm); err != nil {
			return err
		}
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		fn(cm)
		return c.Update(ctx, cm)
	}
	probe := 0
	testenv.WaitFor(t, 20*time.Second, "the model policy to apply", func() (bool, error) {
		probe++
		err := edit(admin, func(cm *corev1.ConfigMap) {
			cm.Annotations[modelstore.DigestAnnotation] = "probe-" + strconv.Itoa(probe)
		})
		return isPolicyDenial(err), err
	})

	// The trainer's next publication, over its first (modelstore
	// compresses both to fit the ConfigMap).
	model, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	model.SetEvaluation([]byte(`{"macro_f1": 0.95}`)) // another file than the first one
	verifies := func(cm *corev1.ConfigMap) error {
		data, err := modelstore.Data(cm)
		if err != nil {
			return err
		}
		return modelstore.Verify(cm, data)
	}
	t.Run("the trainer publishes a model with its digest", func(t *testing.T) {
		if err := modelstore.Publish(ctx, trainer, releaseNamespace, cmName, model); err != nil {
			t.Fatalf("publishing as the trainer: %v", err)
		}
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(ctx, key, cm); err != nil {
			t.Fatal(err)
		}
		if err := verifies(cm); err != nil || cm.Annotations[modelstore.DigestAnnotation] == "" {
			t.Errorf("the published model does not verify: %v", err)
		}
	})
	tests := map[string]struct {
		edit    func(*corev1.ConfigMap)
		refused bool
	}{
		"a namespace admin cannot change the digest": {
			edit: func(cm *corev1.ConfigMap) {
				cm.Annotations[modelstore.DigestAnnotation] = modelstore.Digest([]byte("theirs"))
			}, refused: true,
		},
		"a namespace admin cannot remove the digest": {
			edit: func(cm *corev1.ConfigMap) { delete(cm.Annotations, modelstore.DigestAnnotation) }, refused: true,
		},
		"a namespace admin can change the model, which then no longer verifies": {
			edit: func(cm *corev1.ConfigMap) {
				data, _ := modelstore.Data(cm)
				cm.BinaryData[modelstore.GzipKey] = modelstore.Compress(append(data, ' '))
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := edit(admin, tc.edit)
			switch {
			case tc.refused && !isPolicyDenial(err):
				t.Errorf("not refused by the policy: %v", err)
			case !tc.refused && err != nil:
				t.Errorf("refused: %v", err)
			}
		})
	}
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, key, cm); err != nil {
		t.Fatal(err)
	}
	if err := verifies(cm); err == nil {
		t.Errorf("a model changed by the namespace admin still verifies")
	}
	t.Run("a namespace admin cannot recreate the ConfigMap with a digest of their own", func(t *testing.T) {
		if err := admin.Delete(ctx, cm); err != nil {
			t.Fatal(err)
		}
		theirs := `{"theirs": true}`
		err := admin.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: cmName, Annotations: map[string]string{modelstore.DigestAnnotation: modelstore.Digest([]byte(theirs))}},
			Data:       map[string]string{modelstore.Key: theirs},
		})
		if !isPolicyDenial(err) {
			t.Errorf("not refused by the policy: %v", err)
		}
	})
}
