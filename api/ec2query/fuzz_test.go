package ec2query

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

// FuzzParse feeds Parse arbitrary queries and bodies. Whatever comes in,
// Parse and every accessor either succeed or return an *Error, whose
// document a client can decode; and what they return can be written back
// as a well-formed response.
func FuzzParse(f *testing.F) {
	seeds := []struct {
		get                bool
		query, ctype, body string
	}{
		{false, "", form, "Action=RunInstances&Version=2016-11-15&ImageId=ami-0abc&InstanceType=t3.micro&MinCount=1&MaxCount=2" +
			"&UserData=IyEvYmluL3NoCmVjaG8gaGk%3D&TagSpecification.1.ResourceType=instance" +
			"&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web&ClientToken=tok"},
		{false, "", "application/x-www-form-urlencoded", "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2" +
			"&Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=stopped&MaxResults=5"},
		{false, "", form, "Action=CreateTags&Version=2016-11-15&ResourceId.1=i-1&Tag.1.Key=a&Tag.1.Value=b&DryRun=true"},
		{true, "Action=StopInstances&Version=2016-11-15&InstanceId.1=i-1&Force=true", "", ""},
		{false, "Action=DescribeRegions", "", "Version=2016-11-15"},
		{false, "", form, "Action=A&Version=2016-11-15&Filter.2.Name=x&Filter.01.Value.1=%ff"},
		{false, "", "text/plain", "Action=A"},
	}
	for _, s := range seeds {
		f.Add(s.get, s.query, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, get bool, query, ctype string, body []byte) {
		r := &http.Request{
			Method:        http.MethodPost,
			URL:           &url.URL{Path: "/", RawQuery: query},
			Header:        http.Header{},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		if get {
			r.Method = http.MethodGet
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		req, err := Parse(r, 4096)
		if err != nil {
			checkWireError(t, err)
			return
		}
		out := readBack{}
		var e error
		_, e = req.String("ImageId")
		out.add(e)
		s, _ := req.OptionalString("KeyName")
		out.Names = append(out.Names, s)
		_, e = req.Int("MinCount", 1, 1000)
		out.add(e)
		_, _, e = req.OptionalInt("MaxResults", 5, 1000)
		out.add(e)
		_, e = req.Bool("DryRun")
		out.add(e)
		_, e = req.Blob("UserData")
		out.add(e)
		ids, e := req.Strings("InstanceId")
		out.add(e)
		out.Names = append(out.Names, ids...)
		filters, e := req.Filters()
		out.add(e)
		for _, fl := range filters {
			out.Names = append(out.Names, fl.Name)
			out.Names = append(out.Names, fl.Values...)
		}
		tags, e := req.Tags("Tag")
		out.add(e)
		for _, tg := range tags {
			out.Tags = append(out.Tags, tag{tg.Key, tg.Value})
		}
		specs, e := req.TagSpecifications("TagSpecification")
		out.add(e)
		for _, sp := range specs {
			out.Names = append(out.Names, sp.ResourceType)
		}
		for _, e := range out.errs {
			checkWireError(t, e)
		}
		unused := req.Unused()
		if !slices.IsSorted(unused) || len(slices.Compact(slices.Clone(unused))) != len(unused) {
			t.Fatalf("Unused = %q: not sorted or repeated", unused)
		}
		out.Names = append(out.Names, unused...)

		rec := httptest.NewRecorder()
		if err := Write(rec, req.Action, "req-fuzz", out); err != nil {
			t.Fatalf("writing back what was read: %v", err)
		}
		if err := wellFormed(rec.Body.Bytes()); err != nil {
			t.Fatalf("response is not XML: %v\n%s", err, rec.Body)
		}
	})
}

// readBack is a response made of whatever the accessors returned.
type readBack struct {
	Names List[string] `xml:"nameSet"`
	Tags  List[tag]    `xml:"tagSet"`
	errs  []error
}

func (e *readBack) add(err error) {
	if err != nil {
		e.errs = append(e.errs, err)
	}
}

func checkWireError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is no *Error", err, err)
	}
	if e.Code == "" || e.Message == "" || e.Status < 400 || e.Status > 599 {
		t.Fatalf("incomplete error %+v", e)
	}
	rec := httptest.NewRecorder()
	WriteError(rec, "req-fuzz", e)
	var doc struct {
		Code      string `xml:"Errors>Error>Code"`
		RequestID string `xml:"RequestID"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Code != e.Code || doc.RequestID != "req-fuzz" {
		t.Fatalf("error document %q decodes as %+v, %v", rec.Body, doc, err)
	}
}

func wellFormed(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		if _, err := d.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
