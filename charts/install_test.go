package charts_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/podclass/podclass/certs"
	"github.com/podclass/podclass/internal/harness/testenv"
)

// TestInstallUpgradeUninstall drives the real helm against the apiserver:
// install, let the webhook's certificate manager fill the Secret and the
// caBundle, upgrade (Helm must keep both), uninstall (nothing may remain).
func TestInstallUpgradeUninstall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	ctx := context.Background()
	env := testenv.Start(t, testenv.Options{})
	user, err := env.AddUser(envtest.User{Name: "helm", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	helm := func(args ...string) {
		t.Helper()
		args = append(args, "--kubeconfig", kc, "--namespace", releaseNamespace)
		if out, err := testenv.RunHelm(t, args...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}

	apiServer := apiServerCIDRs(t, env.Client)
	helm("install", "podclass", testenv.ChartDir(t), "--create-namespace")

	// The NetworkPolicy admits the apiserver's own addresses, looked up at install.
	np := &networkingv1.NetworkPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: "podclass-webhook"}, np); err != nil {
		t.Fatal(err)
	}
	checkAdmissionSources(t, np, apiServer)

	// What the webhook does at start in self-managed mode.
	o := certs.DefaultOptions()
	o.Namespace, o.SecretName, o.WebhookConfigName = releaseNamespace, "podclass-webhook-tls", "podclass"
	o.DNSNames = certs.ServiceDNSNames("podclass-webhook", releaseNamespace, "cluster.local")
	o.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	o.CertDir = t.TempDir()
	m, err := certs.New(env.Client, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{}
	whc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	get := func(key client.ObjectKey, obj client.Object) {
		t.Helper()
		if err := env.Client.Get(ctx, key, obj); err != nil {
			t.Fatal(err)
		}
	}
	secretKey := client.ObjectKey{Namespace: releaseNamespace, Name: o.SecretName}
	get(secretKey, secret)
	bundle := secret.Data[certs.CABundleKey]

	helm("upgrade", "podclass", testenv.ChartDir(t), "--set", "webhook.timeoutSeconds=5")
	get(client.ObjectKey{Name: "podclass"}, whc)
	if got := *whc.Webhooks[0].TimeoutSeconds; got != 5 {
		t.Errorf("upgrade did not apply: timeoutSeconds = %d", got)
	}
	if !bytes.Equal(whc.Webhooks[0].ClientConfig.CABundle, bundle) {
		t.Error("helm upgrade dropped the injected caBundle")
	}
	get(secretKey, secret)
	if !bytes.Equal(secret.Data[certs.CABundleKey], bundle) {
		t.Error("helm upgrade emptied the certificate Secret")
	}

	helm("uninstall", "podclass", "--wait")
	leftovers := map[string]struct {
		obj client.Object
		key client.ObjectKey
	}{
		"the webhook configuration": {&admissionregistrationv1.MutatingWebhookConfiguration{}, client.ObjectKey{Name: "podclass"}},
		"the admission policy":      {&admissionregistrationv1.ValidatingAdmissionPolicy{}, client.ObjectKey{Name: "podclass-protect-results"}},
		"the policy binding":        {&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}, client.ObjectKey{Name: "podclass-protect-results"}},
		"the refiner's ClusterRole": {&rbacv1.ClusterRole{}, client.ObjectKey{Name: "podclass-refiner"}},
		"the certificate Secret":    {&corev1.Secret{}, secretKey},
		"the model ConfigMap":       {&corev1.ConfigMap{}, client.ObjectKey{Namespace: releaseNamespace, Name: "podclass-model"}},
	}
	for name, l := range leftovers {
		if err := env.Client.Get(ctx, l.key, l.obj); !apierrors.IsNotFound(err) {
			t.Errorf("%s is left after uninstall (%v)", name, err)
		}
	}
}
