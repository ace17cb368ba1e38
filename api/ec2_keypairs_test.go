package api

import (
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"kumo/internal/ids"
)

// colons writes a digest as EC2 shows RSA fingerprints.
func colons(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

// authorizedRSA returns a fresh RSA public key of bits in authorized_keys
// form and the fingerprint EC2 gives it when imported.
func authorizedRSA(t *testing.T, bits int) ([]byte, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(&key.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := md5.Sum(der)
	return ssh.MarshalAuthorizedKey(pub), colons(sum[:])
}

func authorizedEd25519(t *testing.T) ([]byte, string) {
	t.Helper()
	key, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(key)
	sum := sha256.Sum256(pub.Marshal())
	return ssh.MarshalAuthorizedKey(pub), base64.StdEncoding.EncodeToString(sum[:])
}

// TestEC2CreateKeyPair checks that the private key EC2 hands out parses in
// EC2's format and that the fingerprint is EC2's, recomputed from it.
func TestEC2CreateKeyPair(t *testing.T) {
	client, _, _ := newEC2(t)
	ctx := context.Background()
	cases := []struct {
		name string
		typ  ec2types.KeyType
		// fingerprint parses the private key and returns the fingerprint
		// EC2 shows for it.
		fingerprint func(material string) (string, error)
	}{
		{"made-rsa", "", func(material string) (string, error) {
			block, _ := pem.Decode([]byte(material))
			if block == nil || block.Type != "RSA PRIVATE KEY" {
				return "", fmt.Errorf("not PKCS#1 PEM: %q", material)
			}
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return "", err
			}
			der, err := x509.MarshalPKCS8PrivateKey(key)
			sum := sha1.Sum(der)
			return colons(sum[:]), err
		}},
		{"made-ed25519", ec2types.KeyTypeEd25519, func(material string) (string, error) {
			key, err := ssh.ParseRawPrivateKey([]byte(material))
			if err != nil {
				return "", err
			}
			pub, err := ssh.NewPublicKey(key.(*ed25519.PrivateKey).Public())
			if err != nil {
				return "", err
			}
			return strings.TrimPrefix(ssh.FingerprintSHA256(pub), "SHA256:") + "=", nil
		}},
	}
	for _, c := range cases {
		out, err := client.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(c.name), KeyType: c.typ})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want, err := c.fingerprint(aws.ToString(out.KeyMaterial))
		if err != nil {
			t.Fatalf("%s: private key: %v", c.name, err)
		}
		if aws.ToString(out.KeyFingerprint) != want || aws.ToString(out.KeyName) != c.name || !ids.Valid("key", aws.ToString(out.KeyPairId)) {
			t.Errorf("%s: %s %s %s; fingerprint of the private key %s", c.name, aws.ToString(out.KeyName),
				aws.ToString(out.KeyPairId), aws.ToString(out.KeyFingerprint), want)
		}
	}

	refused := []struct {
		name string
		in   *ec2.CreateKeyPairInput
		code string
	}{
		{"name taken", &ec2.CreateKeyPairInput{KeyName: aws.String("made-rsa")}, "InvalidKeyPair.Duplicate"},
		{"dry run", &ec2.CreateKeyPairInput{KeyName: aws.String("dry"), DryRun: aws.Bool(true)}, "DryRunOperation"},
		{"dry run, bad type", &ec2.CreateKeyPairInput{KeyName: aws.String("dry"), KeyType: "dsa", DryRun: aws.Bool(true)}, "InvalidParameterValue"},
		{"ppk", &ec2.CreateKeyPairInput{KeyName: aws.String("putty"), KeyFormat: ec2types.KeyFormatPpk}, "InvalidParameterValue"},
		{"unknown type", &ec2.CreateKeyPairInput{KeyName: aws.String("dsa"), KeyType: "dsa"}, "InvalidParameterValue"},
		{"name too long", &ec2.CreateKeyPairInput{KeyName: aws.String(strings.Repeat("k", 256))}, "InvalidParameterValue"},
		{"tags", &ec2.CreateKeyPairInput{KeyName: aws.String("tagged"), TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeKeyPair, Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}}}, "InvalidParameterValue"},
	}
	for _, c := range refused {
		if _, err := client.CreateKeyPair(ctx, c.in); apiCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// Neither the dry run nor the refusals made a key pair.
	all, err := client.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil || len(all.KeyPairs) != 2 {
		t.Fatalf("key pairs after refusals: %+v, %v", all, err)
	}
}

func TestEC2ImportKeyPair(t *testing.T) {
	client, _, _ := newEC2(t)
	ctx := context.Background()
	rsaKey, rsaFP := authorizedRSA(t, 2048)
	edKey, edFP := authorizedEd25519(t)
	weak, _ := authorizedRSA(t, 1024)
	cases := []struct {
		name     string
		material []byte
		fp       string
		typ      ec2types.KeyType
		code     string
	}{
		{"rsa", rsaKey, rsaFP, ec2types.KeyTypeRsa, ""},
		{"ed25519", []byte(strings.TrimSpace(string(edKey)) + " me@laptop\n"), edFP, ec2types.KeyTypeEd25519, ""},
		{"rsa", edKey, "", "", "InvalidKeyPair.Duplicate"},
		{"garbage", []byte("this is not a key"), "", "", "InvalidKeyPair.Format"},
		{"weak", weak, "", "", "InvalidKeyPair.Format"},
	}
	for _, c := range cases {
		out, err := client.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(c.name), PublicKeyMaterial: c.material})
		if apiCode(err) != c.code {
			t.Errorf("%s: %v, want %q", c.name, err, c.code)
			continue
		}
		if c.code != "" {
			continue
		}
		if aws.ToString(out.KeyFingerprint) != c.fp || !ids.Valid("key", aws.ToString(out.KeyPairId)) {
			t.Errorf("%s: fingerprint %s id %s, want %s", c.name, aws.ToString(out.KeyFingerprint), aws.ToString(out.KeyPairId), c.fp)
		}
		// The key is kept without its comment; the key pair's name takes
		// its place.
		bare := strings.Join(strings.Fields(string(c.material))[:2], " ")
		got, err := client.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{c.name}, IncludePublicKey: aws.Bool(true)})
		if err != nil || len(got.KeyPairs) != 1 || got.KeyPairs[0].KeyType != c.typ ||
			aws.ToString(got.KeyPairs[0].PublicKey) != bare+" "+c.name {
			t.Errorf("%s: described as %+v, %v", c.name, got, err)
		}
	}
	if _, err := client.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("dry"), PublicKeyMaterial: weak, DryRun: aws.Bool(true)}); apiCode(err) != "InvalidKeyPair.Format" {
		t.Errorf("dry run of a weak key: %v", err)
	}
	if _, err := client.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("dry"), PublicKeyMaterial: edKey, DryRun: aws.Bool(true)}); apiCode(err) != "DryRunOperation" {
		t.Errorf("dry run: %v", err)
	}
}

func TestEC2DescribeAndDeleteKeyPairs(t *testing.T) {
	client, _, _ := newEC2(t)
	ctx := context.Background()
	made := map[string]*ec2.ImportKeyPairOutput{}
	for _, name := range []string{"web-1", "web-2", "db"} {
		material, _ := authorizedEd25519(t)
		out, err := client.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(name), PublicKeyMaterial: material})
		if err != nil {
			t.Fatal(err)
		}
		made[name] = out
	}
	names := func(out *ec2.DescribeKeyPairsOutput) string {
		var ns []string
		for _, k := range out.KeyPairs {
			if k.CreateTime == nil || k.KeyType != ec2types.KeyTypeEd25519 || aws.ToString(k.KeyPairId) != aws.ToString(made[aws.ToString(k.KeyName)].KeyPairId) {
				return fmt.Sprintf("bad item %+v", k)
			}
			ns = append(ns, aws.ToString(k.KeyName))
		}
		return strings.Join(ns, ",")
	}
	filter := func(name string, values ...string) []ec2types.Filter {
		return []ec2types.Filter{{Name: aws.String(name), Values: values}}
	}
	cases := []struct {
		name string
		in   *ec2.DescribeKeyPairsInput
		want string
		code string
	}{
		{"all", &ec2.DescribeKeyPairsInput{}, "db,web-1,web-2", ""},
		{"by name", &ec2.DescribeKeyPairsInput{KeyNames: []string{"db", "web-2"}}, "db,web-2", ""},
		{"by id", &ec2.DescribeKeyPairsInput{KeyPairIds: []string{aws.ToString(made["web-1"].KeyPairId)}}, "web-1", ""},
		{"key-name filter", &ec2.DescribeKeyPairsInput{Filters: filter("key-name", "web-*")}, "web-1,web-2", ""},
		{"fingerprint filter", &ec2.DescribeKeyPairsInput{Filters: filter("fingerprint", aws.ToString(made["db"].KeyFingerprint))}, "db", ""},
		{"key-pair-id filter", &ec2.DescribeKeyPairsInput{Filters: filter("key-pair-id", aws.ToString(made["web-2"].KeyPairId))}, "web-2", ""},
		{"filters and names", &ec2.DescribeKeyPairsInput{KeyNames: []string{"db"}, Filters: filter("key-name", "web-*")}, "", ""},
		{"unknown name", &ec2.DescribeKeyPairsInput{KeyNames: []string{"db", "nope"}}, "", "InvalidKeyPair.NotFound"},
		{"unknown id", &ec2.DescribeKeyPairsInput{KeyPairIds: []string{"key-0123456789abcdef0"}}, "", "InvalidKeyPair.NotFound"},
		{"unknown filter", &ec2.DescribeKeyPairsInput{Filters: filter("colour", "red")}, "", "InvalidParameterValue"},
	}
	for _, c := range cases {
		out, err := client.DescribeKeyPairs(ctx, c.in)
		if apiCode(err) != c.code {
			t.Errorf("%s: %v, want %q", c.name, err, c.code)
			continue
		}
		if c.code == "" && names(out) != c.want {
			t.Errorf("%s: %q, want %q", c.name, names(out), c.want)
		}
	}

	deletes := []struct {
		name string
		in   *ec2.DeleteKeyPairInput
		code string
	}{
		{"by name", &ec2.DeleteKeyPairInput{KeyName: aws.String("web-1")}, ""},
		{"by name again", &ec2.DeleteKeyPairInput{KeyName: aws.String("web-1")}, ""},
		{"by id", &ec2.DeleteKeyPairInput{KeyPairId: made["web-2"].KeyPairId}, ""},
		{"never made", &ec2.DeleteKeyPairInput{KeyName: aws.String("nope")}, ""},
		{"dry run", &ec2.DeleteKeyPairInput{KeyName: aws.String("db"), DryRun: aws.Bool(true)}, "DryRunOperation"},
		{"neither", &ec2.DeleteKeyPairInput{}, "MissingParameter"},
		{"both", &ec2.DeleteKeyPairInput{KeyName: aws.String("db"), KeyPairId: made["db"].KeyPairId}, "InvalidParameterCombination"},
	}
	for _, c := range deletes {
		out, err := client.DeleteKeyPair(ctx, c.in)
		if apiCode(err) != c.code || (c.code == "" && !aws.ToBool(out.Return)) {
			t.Errorf("delete %s: %+v, %v, want %q", c.name, out, err, c.code)
		}
	}
	left, err := client.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil || names(left) != "db" {
		t.Fatalf("left: %q, %v", names(left), err)
	}
}

func TestEC2RunInstancesWithAKeyPair(t *testing.T) {
	client, _, imageID := newEC2(t)
	ctx := context.Background()
	if _, err := client.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("web"), KeyType: ec2types.KeyTypeEd25519}); err != nil {
		t.Fatal(err)
	}
	run := func(key string, dryRun bool) (*ec2.RunInstancesOutput, error) {
		return client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			KeyName: aws.String(key), DryRun: aws.Bool(dryRun)})
	}
	for _, c := range []struct {
		name, key string
		dryRun    bool
		code      string
	}{
		{"unknown key", "nope", false, "InvalidKeyPair.NotFound"},
		{"unknown key, dry run", "nope", true, "InvalidKeyPair.NotFound"},
		{"dry run", "web", true, "DryRunOperation"},
	} {
		if _, err := run(c.key, c.dryRun); apiCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	out, err := run("web", false)
	if err != nil || aws.ToString(out.Instances[0].KeyName) != "web" {
		t.Fatalf("run with a key: %+v, %v", out, err)
	}
	if _, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	// The instance keeps its key's name after the key is gone, as on EC2.
	if _, err := client.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	described, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("key-name"), Values: []string{"web"}}}})
	if err != nil || len(described.Reservations) != 1 {
		t.Fatalf("described: %+v, %v", described, err)
	}
	if in := described.Reservations[0].Instances[0]; aws.ToString(in.InstanceId) != id || aws.ToString(in.KeyName) != "web" {
		t.Fatalf("described %s with key %q", aws.ToString(in.InstanceId), aws.ToString(in.KeyName))
	}
}

// TestEC2KeyPairsBelongToTheirAccount has a second account try every key
// pair action on the first one's key: each answers as if it did not exist,
// and the key survives.
func TestEC2KeyPairsBelongToTheirAccount(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	alice, bob := clientFor(srv, "ALICE"), clientFor(srv, "BOB")
	ctx := context.Background()
	mine, err := alice.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("deploy"), KeyType: ec2types.KeyTypeEd25519})
	if err != nil {
		t.Fatal(err)
	}
	notFound := map[string]func() error{
		"describe by name": func() error {
			_, err := bob.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"deploy"}})
			return err
		},
		"describe by id": func() error {
			_, err := bob.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyPairIds: []string{aws.ToString(mine.KeyPairId)}})
			return err
		},
		"launch with it": func() error {
			_, err := bob.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1),
				MaxCount: aws.Int32(1), KeyName: aws.String("deploy")})
			return err
		},
	}
	for name, try := range notFound {
		if err := try(); apiCode(err) != "InvalidKeyPair.NotFound" {
			t.Errorf("bob's %s: %v, want InvalidKeyPair.NotFound", name, err)
		}
	}
	all, err := bob.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil || len(all.KeyPairs) != 0 {
		t.Fatalf("bob sees %+v, %v", all, err)
	}
	// Deleting what does not exist succeeds, as on EC2, and must not reach
	// alice's key.
	for _, in := range []*ec2.DeleteKeyPairInput{{KeyName: aws.String("deploy")}, {KeyPairId: mine.KeyPairId}} {
		if _, err := bob.DeleteKeyPair(ctx, in); err != nil {
			t.Fatalf("bob's delete: %v", err)
		}
	}
	// Names are per account: bob may have a "deploy" of his own.
	his, err := bob.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("deploy"), KeyType: ec2types.KeyTypeEd25519})
	if err != nil || aws.ToString(his.KeyPairId) == aws.ToString(mine.KeyPairId) {
		t.Fatalf("bob's own deploy key: %+v, %v", his, err)
	}
	still, err := alice.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil || len(still.KeyPairs) != 1 || aws.ToString(still.KeyPairs[0].KeyPairId) != aws.ToString(mine.KeyPairId) ||
		aws.ToString(still.KeyPairs[0].KeyFingerprint) != aws.ToString(mine.KeyFingerprint) {
		t.Fatalf("alice's keys after bob's attempts: %+v, %v", still, err)
	}
	// Each launches with the key of its own account.
	for who, c := range map[string]*ec2.Client{"alice": alice, "bob": bob} {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1),
			MaxCount: aws.Int32(1), KeyName: aws.String("deploy")})
		if err != nil || aws.ToString(out.Instances[0].KeyName) != "deploy" {
			t.Fatalf("%s's launch: %+v, %v", who, out, err)
		}
	}
}
