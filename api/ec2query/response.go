package ec2query

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"time"
)

// Namespace is the XML namespace of every success response.
const Namespace = "http://ec2.amazonaws.com/doc/" + Version + "/"

// contentType is what EC2 sends with every answer, success or error.
const contentType = "text/xml;charset=UTF-8"

// ReturnTrue is the body of the actions that have no output (CreateTags,
// RebootInstances, DeleteKeyPair...): EC2 still answers <return>true</return>.
var ReturnTrue = struct {
	Return bool `xml:"return"`
}{true}

// Write answers action with body: a struct whose xml tags name its members
// with EC2's lowerCamel element names, written inside
// <{action}Response xmlns="…"> after the <requestId>. encoding/xml's own
// formats are already EC2's for strings, numbers and booleans (lowercase,
// which botocore requires: it reads "True" as false); lists need List and
// timestamps Time. A nil body sends only the request id.
//
// The document is built before anything is sent, so a body that cannot be
// encoded is answered with InternalError and its error returned for the log.
func Write(w http.ResponseWriter, action, requestID string, body any) error {
	doc, err := marshal(action, requestID, body)
	if err != nil {
		WriteError(w, requestID, InternalError())
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(doc)
	return err
}

// envelope is the root element. The body's members go in as inner XML,
// since encoding/xml can neither name an element at run time through a
// struct tag nor inline the fields of a value held in an interface.
type envelope struct {
	XMLName   xml.Name
	Namespace string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Inner     []byte `xml:",innerxml"`
}

func marshal(action, requestID string, body any) ([]byte, error) {
	if !validAction(action) {
		return nil, fmt.Errorf("ec2query: %q cannot name a response", action)
	}
	inner, err := members(body)
	if err != nil {
		return nil, fmt.Errorf("ec2query: encoding the %s response: %w", action, err)
	}
	doc, err := xml.Marshal(envelope{
		XMLName:   xml.Name{Local: action + "Response"},
		Namespace: Namespace,
		RequestID: requestID,
		Inner:     inner,
	})
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), doc...), nil
}

// members encodes body, a struct, under a throwaway element and returns
// what is inside it.
func members(body any) ([]byte, error) {
	v := reflect.ValueOf(body)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch {
	case !v.IsValid() || v.Kind() == reflect.Pointer:
		return nil, nil
	case v.Kind() != reflect.Struct:
		return nil, fmt.Errorf("a response body is a struct, not %s", v.Type())
	}
	const open, end = "<body>", "</body>"
	var b bytes.Buffer
	if err := xml.NewEncoder(&b).EncodeElement(body, xml.StartElement{Name: xml.Name{Local: "body"}}); err != nil {
		return nil, err
	}
	out := b.Bytes()
	if !bytes.HasPrefix(out, []byte(open)) {
		return nil, errors.New("a response body cannot carry attributes")
	}
	return out[len(open) : len(out)-len(end)], nil
}

// List is a list member of a response. EC2 never flattens lists in its
// answers: the member is a wrapper element (instancesSet) holding one
// <item> per element, and an empty list is an empty wrapper, which botocore
// turns into [] rather than leaving the key out. Tag the field omitempty to
// leave an empty list out instead.
type List[T any] []T

// MarshalXML writes the wrapper and its items.
func (l List[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	item := xml.StartElement{Name: xml.Name{Local: "item"}}
	for _, v := range l {
		if err := e.EncodeElement(v, item); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// timeFormat is EC2's: UTC, milliseconds, a literal Z.
const timeFormat = "2006-01-02T15:04:05.000Z"

// Time is a timestamp member (launchTime, creationDate). The zero Time is
// left out, as EC2 leaves out what it does not know.
type Time time.Time

// MarshalXML writes t in UTC with milliseconds.
func (t Time) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if time.Time(t).IsZero() {
		return nil
	}
	// Tokens rather than EncodeElement: a listing holds a timestamp per
	// item, and the reflection EncodeElement goes through costs more than
	// the formatting.
	var buf [len(timeFormat)]byte
	text := time.Time(t).UTC().AppendFormat(buf[:0], timeFormat)
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeToken(xml.CharData(text)); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}
