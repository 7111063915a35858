package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

var log = logf.Log.WithName("certs")

// retryAfterFailure bounds the wait before a failed periodic sync is retried.
const retryAfterFailure = 5 * time.Second

// Options say which Secret, webhook configuration and files the Manager keeps.
type Options struct {
	// Namespace and SecretName locate the Secret that holds the CA and the
	// serving pair. The chart creates it empty; the Manager creates it when absent.
	Namespace, SecretName string
	// WebhookConfigName is the MutatingWebhookConfiguration whose webhooks get
	// the CA bundle.
	WebhookConfigName string
	// DNSNames and IPAddresses the serving certificate is for; see ServiceDNSNames.
	DNSNames    []string
	IPAddresses []net.IP
	// CertDir, CertName and KeyName are where certwatcher reads the pair.
	CertDir, CertName, KeyName string
	// CALifetime and CertLifetime are how long a new CA and a new serving
	// certificate are valid; each is renewed when a third of it is left.
	CALifetime, CertLifetime time.Duration
	// CheckInterval is how often the Secret and the webhook configuration are
	// checked; a change made by another replica is picked up within it.
	CheckInterval time.Duration
}

// DefaultOptions are the documented defaults: a CA for three years, serving
// certificates for 90 days, checked every minute.
func DefaultOptions() Options {
	return Options{
		CertName: CertKey, KeyName: KeyKey,
		CALifetime: 3 * 365 * 24 * time.Hour, CertLifetime: 90 * 24 * time.Hour,
		CheckInterval: time.Minute,
	}
}

// ServiceDNSNames are the names a Service is reached by. The apiserver dials
// <service>.<namespace>.svc, so it comes first and is the common name.
func ServiceDNSNames(service, namespace, clusterDomain string) []string {
	names := []string{service + "." + namespace + ".svc"}
	if d := strings.Trim(clusterDomain, "."); d != "" {
		names = append(names, service+"."+namespace+".svc."+d)
	}
	return append(names, service+"."+namespace, service)
}

// Validate rejects options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.Namespace == "" || o.SecretName == "":
		return errors.New("the Secret's namespace and name are required")
	case o.WebhookConfigName == "":
		return errors.New("the webhook configuration's name is required")
	case len(o.DNSNames) == 0 && len(o.IPAddresses) == 0:
		return errors.New("the serving certificate needs a DNS name or an IP address")
	case o.CertDir == "" || o.CertName == "" || o.KeyName == "":
		return errors.New("the cert dir and file names are required")
	case o.CertLifetime <= 0:
		return fmt.Errorf("the serving certificate lifetime must be positive, got %s", o.CertLifetime)
	case o.CALifetime < 2*o.CertLifetime:
		// Else a serving certificate, capped at the CA's expiry, could be due
		// for renewal as soon as it is issued.
		return fmt.Errorf("the CA lifetime %s must be at least twice the serving certificate lifetime %s", o.CALifetime, o.CertLifetime)
	case o.CheckInterval <= 0 || o.CheckInterval >= o.CertLifetime/(2*renewFraction):
		return fmt.Errorf("the check interval %s must be positive and under a sixth of the serving certificate lifetime %s", o.CheckInterval, o.CertLifetime)
	}
	return nil
}

// Manager keeps the Secret, the webhook configuration's caBundle and the
// files in step. Run one per webhook replica.
type Manager struct {
	opts   Options
	policy policy
	// Client reads and writes the Secret and the webhook configuration. It
	// must not be cached: every sync reads the latest versions.
	Client client.Client
	// Clock is swapped by tests.
	Clock clock.PassiveClock

	mu          sync.Mutex
	servedUntil time.Time // NotAfter of the certificate on disk; zero before the first sync
}

// New returns a Manager; it fails on options that cannot work.
func New(c client.Client, o Options) (*Manager, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("a client is required")
	}
	return &Manager{
		opts: o, Client: c, Clock: clock.RealClock{},
		policy: policy{
			CommonName: "podclass-webhook-ca", DNSNames: o.DNSNames, IPAddresses: o.IPAddresses,
			CALifetime: o.CALifetime, ServingLifetime: o.CertLifetime,
		},
	}, nil
}

// Sync brings the Secret, the caBundle and the files up to date once. A
// conflict with another replica is retried at once from a fresh read.
func (m *Manager) Sync(ctx context.Context) error {
	var err error
	for range 5 {
		if err = m.syncOnce(ctx); !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return err
		}
		log.V(1).Info("Another replica wrote first; syncing again", "reason", err.Error())
	}
	return fmt.Errorf("syncing certificates: gave up after repeated conflicts: %w", err)
}

func (m *Manager) syncOnce(ctx context.Context) error {
	// The webhook configuration is read before the Secret: the optimistic
	// lock on the patch below then fails if another replica injected a newer
	// bundle after we read the Secret, and a stale bundle is never written.
	whc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := m.Client.Get(ctx, client.ObjectKey{Name: m.opts.WebhookConfigName}, whc); err != nil {
		return fmt.Errorf("reading MutatingWebhookConfiguration %s: %w", m.opts.WebhookConfigName, err)
	}
	data, err := m.ensureSecret(ctx)
	if err != nil {
		return err
	}
	if err := m.inject(ctx, whc, data[CABundleKey]); err != nil {
		return err
	}
	// Only now, with the apiserver trusting its CA, may the pair be served.
	wrote, err := writeFiles(m.opts.CertDir, m.opts.CertName, m.opts.KeyName, data[CertKey], data[KeyKey])
	if err != nil {
		return err
	}
	serving, err := parseKeyPair(data[CertKey], data[KeyKey])
	if err != nil {
		return fmt.Errorf("reading the serving pair from the Secret: %w", err)
	}
	if wrote {
		log.Info("Serving a new certificate", "serial", serving.Cert.SerialNumber.Text(16), "notAfter", serving.Cert.NotAfter)
	}
	m.mu.Lock()
	m.servedUntil = serving.Cert.NotAfter
	m.mu.Unlock()
	return nil
}

// ensureSecret returns the Secret's data after creating or renewing what
// needs it. Writes carry the resourceVersion read, so of two replicas
// renewing at once exactly one succeeds.
func (m *Manager) ensureSecret(ctx context.Context) (map[string][]byte, error) {
	key := client.ObjectKey{Namespace: m.opts.Namespace, Name: m.opts.SecretName}
	s := &corev1.Secret{}
	err := m.Client.Get(ctx, key, s)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	missing := err != nil
	data, reason, err := m.policy.plan(s.Data, m.Clock.Now())
	if err != nil {
		return nil, err
	}
	if data == nil {
		return s.Data, nil
	}
	if missing {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}, Type: corev1.SecretTypeOpaque, Data: data}
		if err := m.Client.Create(ctx, s); err != nil {
			return nil, fmt.Errorf("creating Secret %s: %w", key, err)
		}
	} else {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range data {
			s.Data[k] = v
		}
		if err := m.Client.Update(ctx, s); err != nil {
			return nil, fmt.Errorf("updating Secret %s: %w", key, err)
		}
	}
	log.Info("Renewed certificates", "secret", key.String(), "reason", reason)
	return data, nil
}

// inject sets every webhook's caBundle to bundle. The patch carries the
// resourceVersion read before the Secret (see syncOnce).
func (m *Manager) inject(ctx context.Context, whc *admissionregistrationv1.MutatingWebhookConfiguration, bundle []byte) error {
	orig := whc.DeepCopy()
	changed := false
	for i := range whc.Webhooks {
		if !bytes.Equal(whc.Webhooks[i].ClientConfig.CABundle, bundle) {
			whc.Webhooks[i].ClientConfig.CABundle = bundle
			changed = true
		}
	}
	if !changed {
		return nil
	}
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := m.Client.Patch(ctx, whc, patch); err != nil {
		return fmt.Errorf("injecting the CA bundle into MutatingWebhookConfiguration %s: %w", whc.Name, err)
	}
	log.Info("Injected CA bundle", "webhookConfiguration", whc.Name)
	return nil
}

// Bootstrap syncs until it succeeds or ctx is done. Call it before serving:
// the webhook server reads its certificate when it starts.
func (m *Manager) Bootstrap(ctx context.Context) error {
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 6, Cap: 15 * time.Second}
	for {
		err := m.Sync(ctx)
		if err == nil {
			return nil
		}
		log.Error(err, "No serving certificate yet; retrying")
		select {
		case <-ctx.Done():
			return fmt.Errorf("bootstrapping certificates: %w", errors.Join(ctx.Err(), err))
		case <-time.After(backoff.Step()):
		}
	}
}

// Start syncs every CheckInterval until ctx is done; failures are logged and
// retried sooner. The certificate on disk stays in use meanwhile.
func (m *Manager) Start(ctx context.Context) error {
	interval := m.opts.CheckInterval
	next := interval
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait.Jitter(next, 0.1)):
		}
		if err := m.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Error(err, "Syncing certificates failed; the current certificate stays in use")
			next = min(interval, retryAfterFailure)
			continue
		}
		next = interval
	}
}

// Checker is a readiness check: it fails until a synced certificate is on
// disk and once that certificate has expired.
func (m *Manager) Checker() healthz.Checker {
	return func(*http.Request) error {
		m.mu.Lock()
		until := m.servedUntil
		m.mu.Unlock()
		switch {
		case until.IsZero():
			return errNoCert
		case !m.Clock.Now().Before(until):
			return fmt.Errorf("serving certificate expired at %s", until.Format(time.RFC3339))
		}
		return nil
	}
}
