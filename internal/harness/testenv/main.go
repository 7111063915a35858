package testenv

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr/funcr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Main is a TestMain body for packages that start a control plane: it routes
// controller-runtime's logs (envtest, the webhook, the certificate manager)
// to stderr with -v and drops them otherwise, then runs the tests.
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	flag.Parse()
	SetupLogging()
	return m.Run()
}

// SetupLogging is Main's logging, for a TestMain that does more (starts a
// cluster the package's tests share): controller-runtime's logs go to
// stderr with -v and are dropped otherwise. Call it after flag.Parse.
func SetupLogging() {
	logf.SetLogger(funcr.New(func(prefix, args string) {
		if testing.Verbose() {
			fmt.Fprintln(os.Stderr, prefix, args)
		}
	}, funcr.Options{}))
}
