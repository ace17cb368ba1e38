package api

import (
	"kumo/api/ec2query"
	"kumo/keypairs"
)

// ec2KeyPair is a key pair in DescribeKeyPairs' shape.
type ec2KeyPair struct {
	ID          string        `xml:"keyPairId"`
	Name        string        `xml:"keyName"`
	Fingerprint string        `xml:"keyFingerprint"`
	Type        string        `xml:"keyType"`
	CreateTime  ec2query.Time `xml:"createTime"`
	PublicKey   string        `xml:"publicKey,omitempty"`
}

// ec2CreateKeyPair makes a key pair and answers its private key, which is
// not kept: this answer is the only copy.
func (s *Server) ec2CreateKeyPair(c *ec2Call) (any, error) {
	q := c.req
	name, err := q.String("KeyName")
	if err != nil {
		return nil, err
	}
	keyType, given := q.OptionalString("KeyType")
	if !given {
		keyType = keypairs.RSA
	}
	// ppk, PuTTY's format, is EC2's other choice; only PEM is made here.
	if format, given := q.OptionalString("KeyFormat"); given && format != "pem" {
		return nil, ec2query.InvalidParameterValue("Value (%s) for parameter keyFormat is invalid. Only pem is supported.", format)
	}
	if err := refuseKeyPairTags(q); err != nil {
		return nil, err
	}
	if err := c.finish(func() error { return keypairs.CheckCreate(name, keyType) }); err != nil {
		return nil, err
	}
	k, private, err := s.keyPairs.Create(c.ctx, c.account, name, keyType)
	if err != nil {
		return nil, err
	}
	return struct {
		Name        string `xml:"keyName"`
		Fingerprint string `xml:"keyFingerprint"`
		Material    string `xml:"keyMaterial"`
		ID          string `xml:"keyPairId"`
	}{k.Name, k.Fingerprint, private, k.ID}, nil
}

// ec2ImportKeyPair adds a key pair from a public key the caller holds the
// private half of.
func (s *Server) ec2ImportKeyPair(c *ec2Call) (any, error) {
	q := c.req
	name, err := q.String("KeyName")
	if err != nil {
		return nil, err
	}
	material, err := q.Blob("PublicKeyMaterial")
	if err != nil {
		return nil, err
	}
	if material == nil {
		return nil, ec2query.MissingParameter("PublicKeyMaterial")
	}
	if err := refuseKeyPairTags(q); err != nil {
		return nil, err
	}
	if err := c.finish(func() error { return keypairs.CheckImport(name, material) }); err != nil {
		return nil, err
	}
	k, err := s.keyPairs.Import(c.ctx, c.account, name, material)
	if err != nil {
		return nil, err
	}
	return struct {
		Fingerprint string `xml:"keyFingerprint"`
		Name        string `xml:"keyName"`
		ID          string `xml:"keyPairId"`
	}{k.Fingerprint, k.Name, k.ID}, nil
}

// refuseKeyPairTags reads TagSpecification, which CreateKeyPair and
// ImportKeyPair take. Key pairs keep no tags yet, so a specification that
// carries any is refused rather than dropped.
func refuseKeyPairTags(q *ec2query.Request) error {
	specs, err := q.TagSpecifications("TagSpecification")
	if err != nil {
		return err
	}
	for _, sp := range specs {
		if sp.ResourceType != "key-pair" {
			return ec2query.InvalidParameterValue("'%s' is not a valid taggable resource type for this operation.", sp.ResourceType)
		}
		if len(sp.Tags) > 0 {
			return ec2query.InvalidParameterValue("Key pairs cannot be tagged yet.")
		}
	}
	return nil
}

// ec2DescribeKeyPairs lists the caller's key pairs, filtered. EC2 does not
// page this listing.
func (s *Server) ec2DescribeKeyPairs(c *ec2Call) (any, error) {
	q := c.req
	names, err := q.Strings("KeyName")
	if err != nil {
		return nil, err
	}
	idList, err := q.Strings("KeyPairId")
	if err != nil {
		return nil, err
	}
	filters, err := q.Filters()
	if err != nil {
		return nil, err
	}
	withPublic, err := q.Bool("IncludePublicKey")
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	list, err := s.keyPairs.Describe(c.ctx, c.account, names, idList)
	if err != nil {
		return nil, err
	}
	out := struct {
		Keys ec2query.List[ec2KeyPair] `xml:"keySet"`
	}{ec2query.List[ec2KeyPair]{}}
	for _, k := range list {
		v := ec2KeyPair{ID: k.ID, Name: k.Name, Fingerprint: k.Fingerprint, Type: k.Type, CreateTime: ec2query.Time(k.CreatedAt)}
		if withPublic {
			v.PublicKey = k.OpenSSH()
		}
		ok, err := matchAll(filters, keyPairFields(v))
		if err != nil {
			return nil, err
		}
		if ok {
			out.Keys = append(out.Keys, v)
		}
	}
	return out, nil
}

// keyPairFields are the DescribeKeyPairs filters.
func keyPairFields(v ec2KeyPair) map[string]func() []string {
	return map[string]func() []string{
		"key-name":    value(v.Name),
		"key-pair-id": value(v.ID),
		"fingerprint": value(v.Fingerprint),
	}
}

// ec2DeleteKeyPair deletes one of the caller's key pairs, by name or id.
// Deleting one that does not exist succeeds, as on EC2.
func (s *Server) ec2DeleteKeyPair(c *ec2Call) (any, error) {
	q := c.req
	name, _ := q.OptionalString("KeyName")
	id, _ := q.OptionalString("KeyPairId")
	err := c.finish(func() error {
		switch {
		case name == "" && id == "":
			return ec2query.MissingParameter("KeyName or KeyPairId")
		case name != "" && id != "":
			return ec2query.InvalidParameterCombination("Give KeyName or KeyPairId, not both.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.keyPairs.Delete(c.ctx, c.account, name, id); err != nil {
		return nil, err
	}
	return ec2query.ReturnTrue, nil
}
