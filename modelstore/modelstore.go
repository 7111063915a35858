package modelstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

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
	// GzipKey holds the model in service, gzip-compressed under binaryData:
	// what Publish writes. The key's .gz suffix is the format marker; a
	// model file is 0.8 MB of JSON, two of them (current and previous) do
	// not fit the apiserver's 1 MiB ConfigMap limit, compressed they take a
	// fifth of it.
	GzipKey = api.ModelConfigMapKey + ".gz"
	// Key holds a model as plain JSON, under data (as the chart ships the
	// default model) or binaryData (as a hand-made ConfigMap may hold it).
	// Publish removes it.
	Key = api.ModelConfigMapKey
	// PreviousGzipKey keeps the model Publish replaced, compressed like
	// GzipKey, for a rollback by hand: copy it to GzipKey and the refiner
	// reloads it.
	PreviousGzipKey = "previous-model.json.gz"
	// PreviousKey is where Publish kept the replaced model before it
	// compressed models; it reads it and removes it.
	PreviousKey = "previous-model.json"
	// VersionAnnotation on the ConfigMap names the model in service.
	VersionAnnotation = "podclass.io/model-version"
)

// MaxModelBytes bounds a model file after decompression, so a small
// compressed value cannot make a reader allocate without limit.
const MaxModelBytes = 64 << 20

// maxConfigMapBytes is the apiserver's limit on a ConfigMap's data and
// binaryData together; Publish leaves some room below it for the rest.
const maxConfigMapBytes = 1 << 20

// ErrNoModel is Data's and Decode's error for a ConfigMap without a model
// under Key or GzipKey.
var ErrNoModel = fmt.Errorf("keys %q and %q are missing or empty", GzipKey, Key)

// Data returns the model file (JSON) the ConfigMap holds: GzipKey under
// binaryData decompressed, or Key under data or binaryData. It is the one
// reader: the refiner serves what it returns, the gate compares with it and
// DigestAnnotation is the SHA-256 of it. ErrNoModel when there is none; an
// error when the model is in more than one place (which one is served would
// be a guess), or is not valid gzip.
func Data(cm *corev1.ConfigMap) ([]byte, error) {
	return value(cm, Key, GzipKey)
}

func value(cm *corev1.ConfigMap, plainKey, gzipKey string) ([]byte, error) {
	var found []string
	var data []byte
	if s := cm.Data[plainKey]; s != "" {
		found, data = append(found, "data."+plainKey), []byte(s)
	}
	if b := cm.BinaryData[plainKey]; len(b) > 0 {
		found, data = append(found, "binaryData."+plainKey), b
	}
	if s := cm.Data[gzipKey]; s != "" {
		found = append(found, "data."+gzipKey) // text cannot hold gzip: refused below
	}
	gz := cm.BinaryData[gzipKey]
	if len(gz) > 0 {
		found = append(found, "binaryData."+gzipKey)
	}
	switch {
	case len(found) == 0:
		if plainKey == Key {
			return nil, ErrNoModel
		}
		return nil, nil
	case len(found) > 1:
		return nil, fmt.Errorf("the model is under %s: keep one", strings.Join(found, " and "))
	case cm.Data[gzipKey] != "":
		return nil, fmt.Errorf("%s must be under binaryData (gzip), not data", gzipKey)
	case len(gz) > 0:
		out, err := gunzip(gz)
		if err != nil {
			return nil, fmt.Errorf("binaryData.%s: %w", gzipKey, err)
		}
		return out, nil
	}
	return data, nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	if len(out) > MaxModelBytes {
		return nil, fmt.Errorf("decompresses to more than %d bytes", MaxModelBytes)
	}
	return out, nil
}

// Compress returns model, a model file, as Publish stores it under GzipKey.
func Compress(model []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level cannot fail
	_, _ = zw.Write(model)                                   // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// Decode loads the model a ConfigMap holds (Data); ErrNoModel when it holds none.
func Decode(cm *corev1.ConfigMap) (*classifier.Classifier, error) {
	data, err := Data(cm)
	if err != nil {
		return nil, err
	}
	return classifier.Load(data)
}

// DecodePrevious loads the model Publish kept under PreviousGzipKey (or
// PreviousKey); nil without error when there is none.
func DecodePrevious(cm *corev1.ConfigMap) (*classifier.Classifier, error) {
	data, err := value(cm, PreviousKey, PreviousGzipKey)
	if err != nil || data == nil {
		return nil, err
	}
	return classifier.Load(data)
}

// Publish writes model, gzip-compressed, under binaryData GzipKey of the
// ConfigMap the refiner watches, with its SHA-256 (of the JSON, see Data) in
// DigestAnnotation, and keeps the model it replaces under PreviousGzipKey.
// Plain-JSON keys (the chart's shipped model) are removed. When the previous
// model does not fit beside the new one it is dropped rather than the
// publication failing. The write is an optimistic update, retried on
// conflict, so two trainers cannot interleave halves.
func Publish(ctx context.Context, c client.Client, namespace, name string, model *classifier.Classifier) error {
	raw, err := json.Marshal(model)
	if err != nil {
		return fmt.Errorf("encoding model: %w", err)
	}
	gz := Compress(raw)
	if len(gz) > maxConfigMapBytes-4<<10 {
		return fmt.Errorf("the model compresses to %d bytes, more than a ConfigMap holds (1 MiB)", len(gz))
	}
	version := model.Manifest().ModelVersion
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm := &corev1.ConfigMap{}
		err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cm)
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: map[string]string{VersionAnnotation: version, DigestAnnotation: Digest(raw)}},
				BinaryData: map[string][]byte{GzipKey: gz},
			}
			return c.Create(ctx, cm)
		}
		if err != nil {
			return fmt.Errorf("reading model ConfigMap %s/%s: %w", namespace, name, err)
		}
		var prev []byte
		if cur, err := Data(cm); err == nil && !bytes.Equal(cur, raw) {
			prev = Compress(cur)
		} else if p, err := value(cm, PreviousKey, PreviousGzipKey); err == nil && len(p) > 0 {
			prev = Compress(p)
		}
		for _, k := range []string{Key, GzipKey, PreviousKey, PreviousGzipKey} {
			delete(cm.Data, k)
			delete(cm.BinaryData, k)
		}
		if cm.BinaryData == nil {
			cm.BinaryData = map[string][]byte{}
		}
		cm.BinaryData[GzipKey] = gz
		if prev != nil && size(cm)+len(prev) <= maxConfigMapBytes-4<<10 {
			cm.BinaryData[PreviousGzipKey] = prev
		}
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[VersionAnnotation] = version
		cm.Annotations[DigestAnnotation] = Digest(raw)
		return c.Update(ctx, cm)
	})
}

// size is what the apiserver counts against the ConfigMap limit.
func size(cm *corev1.ConfigMap) int {
	n := 0
	for k, v := range cm.Data {
		n += len(k) + len(v)
	}
	for k, v := range cm.BinaryData {
		n += len(k) + len(v)
	}
	return n
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
