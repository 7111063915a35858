package trainer

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
)

// ConfigMap keys the trainer writes and the refiner reads.
const (
	// ModelKey holds the model in service.
	ModelKey = api.ModelConfigMapKey
	// PreviousModelKey keeps the model it replaced, for a rollback by hand:
	// copy it back to ModelKey and the refiner reloads it.
	PreviousModelKey = "previous-model.json"
	// VersionAnnotation on the ConfigMap names the model in service.
	VersionAnnotation = "podclass.io/model-version"
)

// Publish writes model into the ConfigMap the refiner watches, keeping the
// model it replaces under PreviousModelKey. The write is an optimistic
// update, retried on conflict, so two trainers cannot interleave halves.
func Publish(ctx context.Context, c client.Client, namespace, name string, model *classifier.Classifier) error {
	raw, err := json.Marshal(model)
	if err != nil {
		return fmt.Errorf("encoding model: %w", err)
	}
	version := model.Manifest().ModelVersion
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm := &corev1.ConfigMap{}
		err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cm)
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: map[string]string{VersionAnnotation: version}},
				Data:       map[string]string{ModelKey: string(raw)},
			}
			return c.Create(ctx, cm)
		}
		if err != nil {
			return fmt.Errorf("reading model ConfigMap %s/%s: %w", namespace, name, err)
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		if cur := cm.Data[ModelKey]; cur != "" && cur != string(raw) {
			cm.Data[PreviousModelKey] = cur
		}
		cm.Data[ModelKey] = string(raw)
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[VersionAnnotation] = version
		return c.Update(ctx, cm)
	})
}

// CurrentModel reads the model in service from the ConfigMap, for the
// quality gate's comparison; nil without error when there is none yet.
func CurrentModel(ctx context.Context, c client.Reader, namespace, name string) (*classifier.Classifier, error) {
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading model ConfigMap %s/%s: %w", namespace, name, err)
	}
	raw := cm.Data[ModelKey]
	if raw == "" {
		return nil, nil
	}
	m, err := classifier.Load([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("model in ConfigMap %s/%s: %w", namespace, name, err)
	}
	return m, nil
}
