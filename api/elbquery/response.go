package elbquery

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"
)

// Version is the API version of classic ELB, the only one it has.
const Version = "2012-06-01"

// Namespace is the XML namespace of every document, errors included.
const Namespace = "http://elasticloadbalancing.amazonaws.com/doc/" + Version + "/"

// contentType is what ELB sends with every answer.
const contentType = "text/xml"

// Write answers action with result: a struct whose xml tags name its
// members as ELB does (the model's names, capitalised), written as
//
//	<{action}Response xmlns="…"><{action}Result>…</{action}Result>
//	<ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></{action}Response>
//
// The Result element is there even when empty (a nil result): botocore
// looks the result up by that name and fails without it. Lists need List
// and timestamps Time.
//
// The document is built before anything is sent, so a result that cannot
// be encoded is answered with InternalFailure and its error returned for
// the log.
func Write(w http.ResponseWriter, action, requestID string, result any) error {
	doc, err := marshal(action, requestID, result)
	if err != nil {
		WriteError(w, requestID, InternalFailure())
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(doc)
	return err
}

type metadata struct {
	RequestID string `xml:"RequestId"`
}

func marshal(action, requestID string, result any) ([]byte, error) {
	if !validAction(action) {
		return nil, fmt.Errorf("elbquery: %q cannot name a response", action)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: Namespace}}}
	res := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	err := enc.EncodeToken(root)
	if err == nil && result == nil {
		if err = enc.EncodeToken(res); err == nil {
			err = enc.EncodeToken(res.End())
		}
	} else if err == nil {
		err = enc.EncodeElement(result, res)
	}
	if err == nil {
		err = enc.EncodeElement(metadata{requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(root.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("elbquery: encoding the %s response: %w", action, err)
	}
	return b.Bytes(), nil
}

// validAction keeps the action to what can name an XML element.
func validAction(s string) bool {
	if s == "" || len(s) > 128 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// List is a list member of a result: a wrapper element holding one
// <member> per element, never flattened. An empty list is an empty
// wrapper, which the clients read as an empty list.
type List[T any] []T

// MarshalXML writes the wrapper and its members.
func (l List[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	member := xml.StartElement{Name: xml.Name{Local: "member"}}
	for _, v := range l {
		if err := e.EncodeElement(v, member); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// Time is a timestamp member (CreatedTime), ISO 8601 in UTC with
// milliseconds. The zero Time is left out.
type Time time.Time

// MarshalXML writes t in UTC.
func (t Time) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if time.Time(t).IsZero() {
		return nil
	}
	return e.EncodeElement(time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z"), start)
}
