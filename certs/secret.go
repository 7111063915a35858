package certs

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Keys of the Secret. tls.crt and tls.key follow kubernetes.io/tls so that
// tools reading such Secrets understand it; the Secret's type stays Opaque so
// the chart can create it empty and uninstall deletes it.
const (
	CertKey       = corev1.TLSCertKey       // serving certificate
	KeyKey        = corev1.TLSPrivateKeyKey // serving key
	CACertKey     = "ca.crt"                // the CA that signs serving certificates now
	CAKeyKey      = "ca.key"                // its key
	CABundleKey   = "ca-bundle.crt"         // every CA the apiserver must trust: current first, then older ones until they expire
	maxBundleCAs  = 4                       // a bound, in case rotations ever outpace expiry
	renewFraction = 3                       // renew when less than 1/renewFraction of the lifetime remains, as cert-manager does
)

// policy is what a Secret must satisfy.
type policy struct {
	CommonName      string
	DNSNames        []string
	IPAddresses     []net.IP
	CALifetime      time.Duration
	ServingLifetime time.Duration
}

// plan returns the Secret data that satisfies p at now, and why it differs
// from data; a nil result means data is fine as it is.
func (p policy) plan(data map[string][]byte, now time.Time) (map[string][]byte, string, error) {
	ca, caErr := parseKeyPair(data[CACertKey], data[CAKeyKey])
	reason := ""
	switch {
	case caErr != nil:
		reason = "no usable CA: " + caErr.Error()
	case !ca.Cert.IsCA:
		reason = "the CA certificate is not a CA"
	case now.Before(ca.Cert.NotBefore):
		reason = "the CA is not valid yet"
	case ca.Cert.NotAfter.Sub(now) < p.CALifetime/renewFraction:
		reason = fmt.Sprintf("the CA expires at %s", ca.Cert.NotAfter.Format(time.RFC3339))
	}
	if reason != "" {
		var err error
		if ca, err = newCA(p.CommonName, now, p.CALifetime); err != nil {
			return nil, "", fmt.Errorf("creating CA: %w", err)
		}
	}

	bundle := p.bundle(ca.Cert, data[CABundleKey], now)
	if reason == "" && !bytes.Equal(bundle, data[CABundleKey]) {
		reason = "the trust bundle is not current"
	}

	serving, servingErr := parseKeyPair(data[CertKey], data[KeyKey])
	if servingErr == nil {
		servingErr = servesFor(serving.Cert, ca.Cert, p.DNSNames, p.IPAddresses, now)
	}
	if servingErr == nil && serving.Cert.NotAfter.Sub(now) < p.ServingLifetime/renewFraction {
		servingErr = fmt.Errorf("it expires at %s", serving.Cert.NotAfter.Format(time.RFC3339))
	}
	if servingErr != nil {
		if reason == "" {
			reason = "serving certificate: " + servingErr.Error()
		}
		var err error
		if serving, err = newServing(ca, p.DNSNames, p.IPAddresses, now, p.ServingLifetime); err != nil {
			return nil, "", fmt.Errorf("creating serving certificate: %w", err)
		}
	}
	if reason == "" {
		return nil, "", nil
	}
	return map[string][]byte{
		CACertKey: ca.CertPEM, CAKeyKey: ca.KeyPEM, CABundleKey: bundle,
		CertKey: serving.CertPEM, KeyKey: serving.KeyPEM,
	}, reason, nil
}

// bundle is current followed by the CAs of old that have not expired: a
// replica still serving a certificate of an older CA stays trusted until it
// has written the new one.
func (p policy) bundle(current *x509.Certificate, old []byte, now time.Time) []byte {
	certs := []*x509.Certificate{current}
	previous, _ := parseCerts(old) // an unreadable bundle is replaced
	for _, c := range previous {
		if len(certs) == maxBundleCAs {
			break
		}
		if c.Equal(current) || !now.Before(c.NotAfter) {
			continue
		}
		certs = append(certs, c)
	}
	return encodeCerts(certs)
}
