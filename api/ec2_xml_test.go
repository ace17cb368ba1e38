package api

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"kumo/api/ec2query"
)

// TestInstanceXMLFollowsItsTags checks the hand-written encoding of an
// instance and a reservation against what encoding/xml makes of the
// structs' own tags, so the two cannot drift apart.
func TestInstanceXMLFollowsItsTags(t *testing.T) {
	full := ec2Instance{
		ID: "i-0123456789abcdef0", ImageID: "ami-0123456789abcdef0", State: ec2State{Code: 80, Name: "stopped"},
		PrivateDNS: "i-0123456789abcdef0.local.compute.internal", Reason: "User initiated <shutdown> & more",
		KeyName: "laptop", LaunchIndex: 2, Type: "t2.micro", LaunchTime: ec2query.Time(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)),
		Placement: ec2Placement{Zone: "local-a", Tenancy: "default", GroupName: "hdfs", GroupID: "pg-0123456789abcdef0", Partition: 3}, Monitoring: ec2Monitoring{State: "disabled"},
		PrivateIP: "10.77.0.5", Arch: "x86_64", RootType: "ebs", RootName: "/dev/vda", Hypervisor: "kvm", Virt: "hvm",
		StateReason: &ec2StateReason{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated"},
		Tags:        ec2query.List[ec2Tag]{{Key: "Name", Value: "web"}, {Key: "env", Value: ""}},
	}
	sparse := ec2Instance{ID: "i-0123456789abcdef1", State: ec2State{Code: 0, Name: "pending"}}
	type reflected ec2Instance // the same fields and tags, without MarshalXML
	for _, v := range []ec2Instance{full, sparse} {
		got, err := xml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := xml.Marshal(struct {
			reflected
			XMLName struct{} `xml:"ec2Instance"`
		}{reflected: reflected(v)})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("hand-written:\n%s\nfrom the tags:\n%s", got, want)
		}
	}
	r := ec2Reservation{ID: "r-0123456789abcdef0", OwnerID: "123456789012", Instances: ec2query.List[ec2Instance]{full, sparse}}
	got, err := xml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	type reflectedReservation ec2Reservation
	want, err := xml.Marshal(struct {
		reflectedReservation
		XMLName struct{} `xml:"ec2Reservation"`
	}{reflectedReservation: reflectedReservation(r)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("hand-written:\n%s\nfrom the tags:\n%s", got, want)
	}
	for _, next := range []string{"", "page<2>"} {
		d := describeInstancesResult{Reservations: ec2query.List[ec2Reservation]{r, r}, NextToken: next}
		var b bytes.Buffer
		d.AppendXML(&b)
		type reflectedResult describeInstancesResult
		want, err := xml.Marshal(struct {
			reflectedResult
			XMLName struct{} `xml:"r"`
		}{reflectedResult: reflectedResult(d)})
		if err != nil {
			t.Fatal(err)
		}
		if got := "<r>" + b.String() + "</r>"; got != string(want) {
			t.Fatalf("hand-written:\n%s\nfrom the tags:\n%s", got, want)
		}
	}
}
