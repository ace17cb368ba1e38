// Package ec2query is the codec of EC2's Query protocol, API version
// 2016-11-15, the one the AWS CLI and SDKs speak to EC2. It owns the wire
// shapes only: a form-encoded request turned into an action and typed
// parameters (request.go, lists.go), results turned into the XML documents
// the clients decode (response.go), and EC2's error codes with their HTTP
// statuses and error document (errors.go). Other query APIs encode their
// requests alike: ParseFor and Members read those too (classic ELB's,
// whose lists are Name.member.N).
//
// It knows nothing of instances, images, the store, authentication or
// routing: which actions exist, which parameters each takes and what the
// values mean is the caller's. It imports only the standard library.
package ec2query
