package modelstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/podclass/podclass/classifier"
)

// DigestAnnotation on the model ConfigMap is the SHA-256 (hex) of the model
// under Key, written by Publish. The chart's admission policy lets only the
// trainer's ServiceAccount set or change it, so anyone else who can edit the
// ConfigMap (a namespace admin) can change the model but not its digest:
// a refiner that requires the digest (Verify) then refuses the model.
const DigestAnnotation = "podclass.io/model-sha256"

// Digest is the value of DigestAnnotation for a model file.
func Digest(model []byte) string {
	sum := sha256.Sum256(model)
	return hex.EncodeToString(sum[:])
}

// Verify says whether data, the model cm holds, is one the trainer
// published: its digest matches DigestAnnotation. A ConfigMap without the
// annotation passes only with the embedded default model, which the chart
// ships before the first training run.
func Verify(cm *corev1.ConfigMap, data []byte) error {
	want, ok := cm.Annotations[DigestAnnotation]
	if !ok {
		if bytes.Equal(bytes.TrimSpace(data), bytes.TrimSpace(classifier.DefaultModelJSON())) {
			return nil
		}
		return fmt.Errorf("the model is not the embedded default and has no %s annotation: the trainer did not publish it", DigestAnnotation)
	}
	if got := Digest(data); got != want {
		return fmt.Errorf("the model's SHA-256 %.12s… does not match %s %.12s…: changed after the trainer published it", got, DigestAnnotation, want)
	}
	return nil
}
