// Package elbquery is the codec of the classic Elastic Load Balancing
// API, version 2012-06-01, as the AWS CLI (aws elb) and SDKs speak it. Its
// requests are form-encoded like EC2's, and are read with package
// ec2query's Request (lists arrive as Name.member.N); what differs is
// written here: the success document, with its <XResult> wrapper and
// <member> lists (response.go), and the ELB error codes with their
// <ErrorResponse> document (errors.go).
//
// Like ec2query it knows only the wire: which actions exist and what
// their parameters mean is the caller's. It imports only the standard
// library.
package elbquery
