package plugin_test

import (
	"os"
	"testing"

	"github.com/podclass/podclass/internal/harness/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
