package modelstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
	// Key holds the model in service, under data (as Publish writes it) or
	// binaryData (as a hand-made ConfigMap may hold it).
	Key = api.ModelConfigMapKey
	// PreviousKey keeps the model it replaced, for a rollback by hand:
	// copy it back to Key and the refiner reloads it.
	PreviousKey = "previous-model.json"
	// VersionAnnotation on the ConfigMap names the model in service.
	VersionAnnotation = "podclass.io/model-version"
)

// ErrNoModel is Decode's error for a ConfigMap without a model under Key.
var ErrNoModel = fmt.Errorf("key %q is missing or empty", Key)

// Data returns the model file the ConfigMap holds under Key: data first,
// then binaryData; nil when neither has it.
func Data(cm *corev1.ConfigMap) []byte {
	return value(cm, Key)
}

func value(cm *corev1.ConfigMap, key string) []byte {
	if s := cm.Data[key]; s != "" {
		return []byte(s)
	}
	if b := cm.BinaryData[key]; len(b) > 0 {
		return b
	}
	return nil
}

// Decode loads the model a ConfigMap holds; ErrNoModel when it holds none.
func Decode(cm *corev1.ConfigMap) (*classifier.Classifier, error) {
	data := Data(cm)
	if len(data) == 0 {
		return nil, ErrNoModel
	}
	return classifier.Load(data)
}

// Publish writes model into the ConfigMap the refiner watches, keeping the
// model it replaces under PreviousKey. The write is an optimistic update,
// retried on conflict, so two trainers cannot interleave halves. Both keys
// end up under data (a key may not be in data and binaryData at once).
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
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: map[string]string{VersionAnnotation: version, DigestAnnotation: Digest(raw)}},
				Data:       map[string]string{Key: string(raw)},
			}
			return c.Create(ctx, cm)
		}
		if err != nil {
			return fmt.Errorf("reading model ConfigMap %s/%s: %w", namespace, name, err)
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		if cur := string(Data(cm)); cur != "" && cur != string(raw) {
			cm.Data[PreviousKey] = cur
		} else if prev := value(cm, PreviousKey); len(prev) > 0 {
			cm.Data[PreviousKey] = string(prev)
		}
		delete(cm.BinaryData, Key)
		delete(cm.BinaryData, PreviousKey)
		cm.Data[Key] = string(raw)
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[VersionAnnotation] = version
		cm.Annotations[DigestAnnotation] = Digest(raw)
		return c.Update(ctx, cm)
	})
}

// Current reads the model in service from the ConfigMap, for the quality
// gate's comparison; nil without error when there is none yet. It reads the
// model where the refiner does (Decode), so the gate compares with the model
// actually served.
func Current(ctx context.Context, c client.Reader, namespace, name string) (*classifier.Classifier, error) {
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading model ConfigMap %s/%s: %w", namespace, name, err)
	}
	m, err := Decode(cm)
	if errors.Is(err, ErrNoModel) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model in ConfigMap %s/%s: %w", namespace, name, err)
	}
	return m, nil
}

// Open loads a model file, or the embedded default model when path is empty.
func Open(path string) (*classifier.Classifier, error) {
	if path == "" {
		m, err := classifier.Default()
		if err != nil {
			return nil, fmt.Errorf("embedded default model: %w", err)
		}
		return m, nil
	}
	return classifier.LoadFile(path)
}

// Reference picks the model the quality gate compares a new one with, from
// the train command's --current: "none" compares with nothing; a path
// compares with that file; "" compares with the model in service in
// ConfigMap namespace/name when name is set and it holds one (read through
// reader, called only then), else with the embedded default — or with
// nothing when that does not load, said on warn.
func Reference(ctx context.Context, current string, reader func() (client.Reader, error), namespace, name string, warn io.Writer) (*classifier.Classifier, error) {
	switch current {
	case "none":
		return nil, nil
	case "":
		if name != "" {
			c, err := reader()
			if err != nil {
				return nil, err
			}
			cur, err := Current(ctx, c, namespace, name)
			if err != nil || cur != nil {
				return cur, err
			}
		}
		cur, err := classifier.Default()
		if err != nil {
			fmt.Fprintf(warn, "not comparing with the embedded default model: %v\n", err)
			return nil, nil
		}
		return cur, nil
	default:
		cur, err := classifier.LoadFile(current)
		if err != nil {
			return nil, fmt.Errorf("--current: %w", err)
		}
		return cur, nil
	}
}
