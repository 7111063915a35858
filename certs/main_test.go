package certs_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr/funcr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestMain routes controller-runtime's logs (envtest, the webhook, the
// certificate manager) to stderr with -v and drops them otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	logf.SetLogger(funcr.New(func(prefix, args string) {
		if testing.Verbose() {
			fmt.Fprintln(os.Stderr, prefix, args)
		}
	}, funcr.Options{}))
	os.Exit(m.Run())
}
