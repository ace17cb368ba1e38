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
	b := document()
	defer recycle(b)
	if err := marshal(b, action, requestID, body); err != nil {
		WriteError(w, requestID, InternalError())
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b.Bytes())
	return err
}

// documents keeps a few buffers answers are built in: a listing of a
// thousand instances is a megabyte, and faulting in fresh memory for it on
// every request cost more than writing the XML. Not a sync.Pool: the
// collector empties those, and these answers make it run often.
var documents = make(chan *bytes.Buffer, 4)

// maxKept bounds the buffers put back, so one huge answer does not stay
// resident for good.
const maxKept = 8 << 20

func document() *bytes.Buffer {
	select {
	case b := <-documents:
		return b
	default:
		return new(bytes.Buffer)
	}
}

func recycle(b *bytes.Buffer) {
	if b.Cap() > maxKept {
		return
	}
	b.Reset()
	select {
	case documents <- b:
	default:
	}
}

// Appender is a body that writes its own members, escaped as encoding/xml
// escapes: for the answers too large for encoding/xml's reflection to keep
// up with (DescribeInstances of a thousand instances).
type Appender interface {
	AppendXML(b *bytes.Buffer)
}

// marshal builds the whole document in one buffer: the envelope's start and
// request id, then the body's members, encoded by encoding/xml under a
// throwaway element whose tags are cut out in place. A listing of a
// thousand instances is a megabyte; building it in pieces and joining
// them copied it three times over.
func marshal(b *bytes.Buffer, action, requestID string, body any) error {
	if !validAction(action) {
		return fmt.Errorf("ec2query: %q cannot name a response", action)
	}
	b.WriteString(xml.Header)
	b.WriteString("<" + action + `Response xmlns="` + Namespace + `"><requestId>`)
	xml.EscapeText(b, []byte(requestID))
	b.WriteString("</requestId>")
	if err := members(b, body); err != nil {
		return fmt.Errorf("ec2query: encoding the %s response: %w", action, err)
	}
	b.WriteString("</" + action + "Response>")
	return nil
}

// members appends the encoding of body's members, body being a struct.
func members(b *bytes.Buffer, body any) error {
	if a, ok := body.(Appender); ok {
		a.AppendXML(b)
		return nil
	}
	v := reflect.ValueOf(body)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch {
	case !v.IsValid() || v.Kind() == reflect.Pointer:
		return nil
	case v.Kind() != reflect.Struct:
		return fmt.Errorf("a response body is a struct, not %s", v.Type())
	}
	const open, end = "<body>", "</body>"
	mark := b.Len()
	if err := xml.NewEncoder(b).EncodeElement(body, xml.StartElement{Name: xml.Name{Local: "body"}}); err != nil {
		return err
	}
	out := b.Bytes()[mark:]
	if !bytes.HasPrefix(out, []byte(open)) {
		return errors.New("a response body cannot carry attributes")
	}
	n := copy(out, out[len(open):len(out)-len(end)])
	b.Truncate(mark + n)
	return nil
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

// String is t as EC2 writes it, or "" for the zero Time.
func (t Time) String() string {
	if time.Time(t).IsZero() {
		return ""
	}
	return time.Time(t).UTC().Format(timeFormat)
}

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
