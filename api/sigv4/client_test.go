package sigv4

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
)

// ec2Stub answers DescribeRegions for requests that verify, and the EC2
// error envelope for those that do not.
type ec2Stub struct {
	mu      sync.Mutex
	ids     []Identity
	authzes []string
}

var stubStatus = map[string]int{
	CodeMissingAuthenticationToken: http.StatusForbidden,
	CodeIncompleteSignature:        http.StatusBadRequest,
	CodeAuthFailure:                http.StatusUnauthorized,
	CodeSignatureDoesNotMatch:      http.StatusForbidden,
	CodeRequestExpired:             http.StatusBadRequest,
}

func (s *ec2Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	id, err := Verify(r, body, time.Now(), keys)
	s.mu.Lock()
	s.authzes = append(s.authzes, r.Header.Get("Authorization"))
	if err == nil {
		s.ids = append(s.ids, id)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	var e *Error
	if errors.As(err, &e) {
		w.WriteHeader(stubStatus[e.Code])
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-1</RequestID></Response>`, e.Code, e.Message)
		return
	}
	if err != nil || !strings.Contains(string(body), "Action=DescribeRegions") {
		http.Error(w, "unexpected request", http.StatusInternalServerError)
		return
	}
	fmt.Fprint(w, `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>
<regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>127.0.0.1</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item></regionInfo>
</DescribeRegionsResponse>`)
}

func ec2Client(srv *httptest.Server, id, key string) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: id, SecretAccessKey: key}, nil
		}),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
}

// TestSDKClient drives Verify with aws-sdk-go-v2's EC2 client, as the
// EC2 Query API will be driven.
func TestSDKClient(t *testing.T) {
	stub := &ec2Stub{}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	ctx := context.Background()

	out, err := ec2Client(srv, keyID, secret).DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		t.Fatalf("DescribeRegions: %v", err)
	}
	if len(out.Regions) != 1 || aws.ToString(out.Regions[0].RegionName) != "us-east-1" {
		t.Fatalf("regions %+v", out.Regions)
	}
	if len(stub.ids) != 1 || stub.ids[0].Account != account || stub.ids[0].Service != "ec2" || stub.ids[0].Region != region {
		t.Fatalf("identities %+v", stub.ids)
	}
	// The SDK signs its own headers and the content length: the verifier
	// must rebuild each from the request as the server parsed it.
	const sdkSigned = "SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date,"
	if !strings.Contains(stub.authzes[0], sdkSigned) {
		t.Fatalf("Authorization %q does not sign %s", stub.authzes[0], sdkSigned)
	}

	for _, tc := range []struct {
		name, id, key, code string
	}{
		{"wrong secret", keyID, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", CodeSignatureDoesNotMatch},
		{"unknown key", "AKIAUNKNOWNUNKNOWN00", secret, CodeAuthFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ec2Client(srv, tc.id, tc.key).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("DescribeRegions: %v, want %s", err, tc.code)
			}
		})
	}
}
