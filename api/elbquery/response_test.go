package elbquery

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Shapes of a few ELB results, with the element names of the service
// model; the API's tests decode them with the real client.
type listener struct {
	Protocol         string
	LoadBalancerPort int
	InstanceProtocol string
	InstancePort     int
}

type listenerDescription struct {
	Listener    listener
	PolicyNames List[string]
}

type instance struct {
	InstanceID string `xml:"InstanceId"`
}

type description struct {
	LoadBalancerName     string
	DNSName              string
	ListenerDescriptions List[listenerDescription]
	Instances            List[instance]
	CreatedTime          Time
	Scheme               string
}

type describe struct {
	LoadBalancerDescriptions List[description]
}

const xmlHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func TestWrite(t *testing.T) {
	created := time.Date(2024, 1, 2, 4, 4, 5, 120_000_000, time.FixedZone("CET", 3600))
	rec := httptest.NewRecorder()
	err := Write(rec, "DescribeLoadBalancers", "req-1", describe{List[description]{{
		LoadBalancerName: "web", DNSName: "127.0.0.1",
		ListenerDescriptions: List[listenerDescription]{{Listener: listener{"TCP", 8081, "TCP", 80}}},
		Instances:            List[instance]{{"i-1"}, {"i-2"}},
		CreatedTime:          Time(created),
		Scheme:               "internet-facing",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	const want = xmlHead +
		`<DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">` +
		`<DescribeLoadBalancersResult><LoadBalancerDescriptions><member>` +
		`<LoadBalancerName>web</LoadBalancerName><DNSName>127.0.0.1</DNSName>` +
		`<ListenerDescriptions><member><Listener><Protocol>TCP</Protocol><LoadBalancerPort>8081</LoadBalancerPort>` +
		`<InstanceProtocol>TCP</InstanceProtocol><InstancePort>80</InstancePort></Listener><PolicyNames></PolicyNames></member></ListenerDescriptions>` +
		`<Instances><member><InstanceId>i-1</InstanceId></member><member><InstanceId>i-2</InstanceId></member></Instances>` +
		`<CreatedTime>2024-01-02T03:04:05.120Z</CreatedTime><Scheme>internet-facing</Scheme>` +
		`</member></LoadBalancerDescriptions></DescribeLoadBalancersResult>` +
		`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeLoadBalancersResponse>`
	if got := rec.Body.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/xml" {
		t.Errorf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// An action without output still has its Result element, which botocore
// looks up by name.
func TestWriteEmptyResult(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := Write(rec, "DeleteLoadBalancer", "r<1>", nil); err != nil {
		t.Fatal(err)
	}
	const want = xmlHead +
		`<DeleteLoadBalancerResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">` +
		`<DeleteLoadBalancerResult></DeleteLoadBalancerResult>` +
		`<ResponseMetadata><RequestId>r&lt;1&gt;</RequestId></ResponseMetadata></DeleteLoadBalancerResponse>`
	if got := rec.Body.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteRefusesWhatCannotBeWritten(t *testing.T) {
	for name, c := range map[string]struct {
		action string
		result any
	}{
		"bad action":   {"Describe<x>", nil},
		"not a struct": {"Describe", make(chan int)},
	} {
		rec := httptest.NewRecorder()
		if err := Write(rec, c.action, "r", c.result); err == nil {
			t.Errorf("%s: no error", name)
		}
		var doc errorResponse
		if rec.Code != http.StatusInternalServerError || xml.Unmarshal(rec.Body.Bytes(), &doc) != nil ||
			doc.Code != "InternalFailure" || doc.Type != "Receiver" {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
}
