package app

import (
	"flag"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
)

var logConfig = textlogger.NewConfig()

// addLogFlags adds klog's -v and --vmodule to a flag set.
func addLogFlags(fs *pflag.FlagSet) {
	gofs := flag.NewFlagSet("log", flag.ContinueOnError)
	logConfig.AddFlags(gofs)
	fs.AddGoFlagSet(gofs)
}

func klogr() logr.Logger {
	l := textlogger.NewLogger(logConfig)
	klog.SetLoggerWithOptions(l, klog.ContextualLogger(true))
	return l
}
