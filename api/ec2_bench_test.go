package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"kumo/api/sigv4"
)

const (
	benchAccount = "123456789012"
	benchKey     = "AKIABENCHMARK0000001"
	benchSecret  = "bench-secret-0123456789abcdefghij"
)

// signedAuth verifies signatures for real, against one key.
type signedAuth struct{}

func (signedAuth) Authenticate(r *http.Request, body []byte, _ string) (string, error) {
	id, err := sigv4.Verify(r, body, time.Now(), sigv4.LookupFunc(func(_ context.Context, key string) (string, string, error) {
		if key != benchKey {
			return "", "", sigv4.ErrUnknownKey
		}
		return benchSecret, benchAccount, nil
	}))
	return id.Account, err
}

func benchEC2(b *testing.B, n int) (*ec2.Client, string) {
	srv, imageID := benchAPI(b, n, benchAccount, Options{EC2Auth: signedAuth{}})
	return ec2.New(ec2.Options{Region: "local", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: benchKey, SecretAccessKey: benchSecret}, nil
		})}), imageID
}

// BenchmarkEC2Describe1000 measures DescribeInstances of 1 000 instances:
// a request signed as the SDKs sign it, its verification, the listing and
// the answer, until its last byte is read. Decoding the answer is the
// client's work and is left out: the Go SDK's XML decoder alone takes
// longer than kumo to answer.
func BenchmarkEC2Describe1000(b *testing.B) {
	srv, _ := benchAPI(b, 1000, benchAccount, Options{EC2Auth: signedAuth{}})
	signer := v4.NewSigner()
	body := "Action=DescribeInstances&Version=2016-11-15"
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: benchKey, SecretAccessKey: benchSecret}
	b.ReportMetric(median(b, func() time.Duration {
		start := time.Now()
		req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", "local", start); err != nil {
			b.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 500_000 {
			b.Fatalf("describe: %s, %d bytes", resp.Status, n)
		}
		return time.Since(start)
	}), "describe1000_p50_ms")
}

// BenchmarkEC2RunInstances measures RunInstances until its answer (the
// launch goes on in the background), and reports the median.
func BenchmarkEC2RunInstances(b *testing.B) {
	client, imageID := benchEC2(b, 0)
	b.ReportMetric(median(b, func() time.Duration {
		start := time.Now()
		_, err := client.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(imageID),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}), "run_api_p50_ms")
}
