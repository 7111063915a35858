package certs

import (
	"path/filepath"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestFileChecker(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	data := fresh(t, testPolicy, t0)
	tests := map[string]struct {
		cert, key []byte
		at        time.Time
		wantErr   bool
	}{
		"a valid pair is ready":               {cert: data[CertKey], key: data[KeyKey], at: t0.Add(time.Hour)},
		"no files are not ready":              {at: t0, wantErr: true},
		"an expired certificate is not ready": {cert: data[CertKey], key: data[KeyKey], at: t0.Add(10 * time.Hour), wantErr: true},
		"a key of another certificate is not ready": {
			cert: data[CertKey], key: data[CAKeyKey], at: t0.Add(time.Hour), wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.cert != nil {
				if _, err := writeFiles(dir, "tls.crt", "tls.key", tc.cert, tc.key); err != nil {
					t.Fatal(err)
				}
			}
			check := FileChecker(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), clocktesting.NewFakePassiveClock(tc.at))
			if err := check(nil); (err != nil) != tc.wantErr {
				t.Errorf("check = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
