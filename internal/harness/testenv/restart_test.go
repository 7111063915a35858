package testenv_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/internal/harness/testenv"
)

// TestRestartAPIServer restarts kube-apiserver under an open watch: it stops
// well within envtest's stop timeout, comes back on the same address, the
// test's client works with the same config, objects written before survive,
// and the informer resumes and sees objects written after.
func TestRestartAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	informers, err := cache.New(env.Config, cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := informers.GetInformer(ctx, &corev1.ConfigMap{}); err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := informers.Start(ctx); err != nil {
			t.Errorf("informers: %v", err)
		}
	}()
	if !informers.WaitForCacheSync(ctx) {
		t.Fatal("informers did not sync")
	}
	create := func(name string) {
		t.Helper()
		if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}); err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
	}
	create("before")
	host := env.Config.Host

	start := time.Now()
	env.RestartAPIServer(t)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the restart took %s", took)
	}
	if env.Config.Host != host {
		t.Errorf("the apiserver moved from %s to %s", host, env.Config.Host)
	}
	create("after")
	for _, name := range []string{"before", "after"} {
		testenv.WaitFor(t, 10*time.Second, "the informer to see "+name, func() (bool, error) {
			err := informers.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, &corev1.ConfigMap{})
			return err == nil, err
		})
	}
}
