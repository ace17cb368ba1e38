package ec2query

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Shapes of a few EC2 responses, with the element names of botocore's
// service model; the SDK test decodes them with the real client.
type instanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type group struct {
	ID   string `xml:"groupId"`
	Name string `xml:"groupName"`
}

type instance struct {
	InstanceID      string        `xml:"instanceId"`
	ImageID         string        `xml:"imageId"`
	State           instanceState `xml:"instanceState"`
	InstanceType    string        `xml:"instanceType"`
	LaunchTime      Time          `xml:"launchTime"`
	PrivateIP       string        `xml:"privateIpAddress,omitempty"`
	EbsOptimized    bool          `xml:"ebsOptimized"`
	SourceDestCheck bool          `xml:"sourceDestCheck"`
	Tags            List[tag]     `xml:"tagSet,omitempty"`
}

type reservation struct {
	ReservationID string         `xml:"reservationId"`
	OwnerID       string         `xml:"ownerId"`
	Groups        List[group]    `xml:"groupSet"`
	Instances     List[instance] `xml:"instancesSet"`
}

type describeInstances struct {
	Reservations List[reservation] `xml:"reservationSet"`
	NextToken    string            `xml:"nextToken,omitempty"`
}

type stateChange struct {
	InstanceID    string        `xml:"instanceId"`
	CurrentState  instanceState `xml:"currentState"`
	PreviousState instanceState `xml:"previousState"`
}

type stopInstances struct {
	Instances List[stateChange] `xml:"instancesSet"`
}

var launched = time.Date(2024, 1, 2, 4, 4, 5, 120_000_000, time.FixedZone("CET", 3600))

var oneReservation = describeInstances{Reservations: List[reservation]{{
	ReservationID: "r-0aa",
	OwnerID:       "123456789012",
	Instances: List[instance]{{
		InstanceID:      "i-0123456789abcdef0",
		ImageID:         "ami-0abc",
		State:           instanceState{16, "running"},
		InstanceType:    "t3.micro",
		LaunchTime:      Time(launched),
		PrivateIP:       "10.77.0.5",
		SourceDestCheck: true,
		Tags:            List[tag]{{"Name", "web & <db>"}},
	}},
}}}

const xmlHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func TestWrite(t *testing.T) {
	tests := []struct {
		name, action string
		body         any
		want         string
	}{
		{
			"describe instances", "DescribeInstances", oneReservation,
			`<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>` +
				`<reservationSet><item><reservationId>r-0aa</reservationId><ownerId>123456789012</ownerId><groupSet></groupSet>` +
				`<instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><imageId>ami-0abc</imageId>` +
				`<instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType>` +
				`<launchTime>2024-01-02T03:04:05.120Z</launchTime><privateIpAddress>10.77.0.5</privateIpAddress>` +
				`<ebsOptimized>false</ebsOptimized><sourceDestCheck>true</sourceDestCheck>` +
				`<tagSet><item><key>Name</key><value>web &amp; &lt;db&gt;</value></item></tagSet>` +
				`</item></instancesSet></item></reservationSet></DescribeInstancesResponse>`,
		},
		{
			"state changes", "StopInstances",
			&stopInstances{Instances: List[stateChange]{{"i-1", instanceState{64, "stopping"}, instanceState{16, "running"}}}},
			`<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>` +
				`<instancesSet><item><instanceId>i-1</instanceId><currentState><code>64</code><name>stopping</name></currentState>` +
				`<previousState><code>16</code><name>running</name></previousState></item></instancesSet></StopInstancesResponse>`,
		},
		{
			"empty list and zero time", "DescribeInstances",
			describeInstances{Reservations: List[reservation]{{ReservationID: "r-1", Instances: List[instance]{{InstanceID: "i-1"}}}}},
			`<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>` +
				`<reservationSet><item><reservationId>r-1</reservationId><ownerId></ownerId><groupSet></groupSet>` +
				`<instancesSet><item><instanceId>i-1</instanceId><imageId></imageId>` +
				`<instanceState><code>0</code><name></name></instanceState><instanceType></instanceType>` +
				`<ebsOptimized>false</ebsOptimized><sourceDestCheck>false</sourceDestCheck>` +
				`</item></instancesSet></item></reservationSet></DescribeInstancesResponse>`,
		},
		{
			"no output", "CreateTags", ReturnTrue,
			`<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>` +
				`<return>true</return></CreateTagsResponse>`,
		},
		{
			"nil body", "RebootInstances", nil,
			`<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId></RebootInstancesResponse>`,
		},
		{
			"nil pointer body", "StopInstances", (*stopInstances)(nil),
			`<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId></StopInstancesResponse>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := Write(rec, tt.action, "req-1", tt.body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusOK {
				t.Errorf("status %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/xml;charset=UTF-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := rec.Body.String(); got != xmlHead+tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, xmlHead+tt.want)
			}
		})
	}
}

type withAttr struct {
	ID string `xml:"id,attr"`
}

func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name, action string
		body         any
	}{
		{"action that names no element", "Describe<x>", nil},
		{"empty action", "", ReturnTrue},
		{"attributes", "DescribeInstances", withAttr{"x"}},
		{"a slice", "DescribeInstances", []string{"a", "b"}},
		{"a string", "DescribeInstances", "text"},
		{"a channel member", "DescribeInstances", struct{ C chan int }{make(chan int)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := Write(rec, tt.action, "req-1", tt.body); err == nil {
				t.Fatal("no error")
			}
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", rec.Code)
			}
			var doc struct {
				Code string `xml:"Errors>Error>Code"`
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Code != "InternalError" {
				t.Errorf("answer %q (%v), want an InternalError document", rec.Body, err)
			}
		})
	}
}
