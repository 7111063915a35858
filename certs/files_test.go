package certs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFiles(t *testing.T) {
	tests := map[string]struct {
		before    func(dir string) // the cert dir as found
		wantWrite bool
	}{
		"an empty dir gets the pair": {before: func(string) {}, wantWrite: true},
		"the same pair is not written again": {
			before: func(dir string) {
				if _, err := writeFiles(dir, "tls.crt", "tls.key", []byte("cert-2"), []byte("key-2")); err != nil {
					panic(err)
				}
			},
		},
		"an older pair is replaced and its generation removed": {
			before: func(dir string) {
				if _, err := writeFiles(dir, "tls.crt", "tls.key", []byte("cert-1"), []byte("key-1")); err != nil {
					panic(err)
				}
			},
			wantWrite: true,
		},
		"plain files from elsewhere are replaced by links": {
			before: func(dir string) {
				_ = os.WriteFile(filepath.Join(dir, "tls.crt"), []byte("cert-0"), 0o600)
				_ = os.WriteFile(filepath.Join(dir, "tls.key"), []byte("key-0"), 0o600)
			},
			wantWrite: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tc.before(dir)
			wrote, err := writeFiles(dir, "tls.crt", "tls.key", []byte("cert-2"), []byte("key-2"))
			if err != nil {
				t.Fatal(err)
			}
			if wrote != tc.wantWrite {
				t.Errorf("wrote = %v, want %v", wrote, tc.wantWrite)
			}
			for file, want := range map[string]string{"tls.crt": "cert-2", "tls.key": "key-2"} {
				got, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil || string(got) != want {
					t.Errorf("%s = %q (%v), want %q", file, got, err, want)
				}
				if link, err := os.Readlink(filepath.Join(dir, file)); err != nil || link != filepath.Join(dataLink, file) {
					t.Errorf("%s is not a link through %s: %q %v", file, dataLink, link, err)
				}
			}
			if gens, _ := filepath.Glob(filepath.Join(dir, genPattern)); len(gens) != 1 {
				t.Errorf("%d generations on disk, want 1", len(gens))
			}
		})
	}
}
