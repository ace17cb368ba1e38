package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"kumo/internal/e2e"
)

// awsCLIs are the AWS CLIs to drive kumo with: Debian's v2, which the host
// setup installs, and a v1 from Python's packages where the machine has
// one on PATH.
func awsCLIs(t *testing.T) map[string]string {
	clis := map[string]string{"v2": "/usr/bin/aws"}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "aws")
		if p == "/usr/bin/aws" {
			continue
		}
		if out, err := exec.Command(p, "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(out), "aws-cli/1.") {
			clis["v1"] = p
			break
		}
	}
	if len(clis) == 1 {
		t.Log("no AWS CLI v1 on PATH: driving kumo with v2 only")
	}
	return clis
}

// TestAWSCLIDrivesRealInstances launches a real guest with the AWS CLI,
// unchanged, pointed at kumod: its user data must run in the guest, its
// Name tag must filter, and stop, start and terminate must take it through
// EC2's states. A wrong secret must be refused.
func TestAWSCLIDrivesRealInstances(t *testing.T) {
	c := e2e.Start(t, "--warm-types=t2.nano")
	c.WaitTemplates(1, 3*time.Minute)
	var images struct {
		Images []struct{ ID, Name string } `json:"images"`
	}
	json.Unmarshal([]byte(c.MustCLI("images", "ls", "--json")), &images)
	ami := ""
	for _, im := range images.Images {
		if im.Name == "kumo-tiny" {
			ami = im.ID
		}
	}
	userData := filepath.Join(t.TempDir(), "ud.sh")
	os.WriteFile(userData, []byte("#!/bin/sh\necho launched-by-the-aws-cli > /www/cli\ncp /root/.ssh/authorized_keys /www/key\n"), 0o644)
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	publicKey := filepath.Join(t.TempDir(), "id_ed25519.pub")
	os.WriteFile(publicKey, ssh.MarshalAuthorizedKey(sshPub), 0o644)
	keyBody := strings.Fields(string(ssh.MarshalAuthorizedKey(sshPub)))[1]

	for version, path := range awsCLIs(t) {
		t.Run(version, func(t *testing.T) {
			aws := awsRunner(t, c, path, e2e.AdminSecret)
			var run struct {
				Instances []struct{ InstanceId, PrivateIpAddress string }
			}
			aws(nil, "ec2", "import-key-pair", "--key-name", "cli-"+version, "--public-key-material", "fileb://"+publicKey)
			aws(nil, "ec2", "create-placement-group", "--group-name", "pg-"+version, "--strategy", "spread")
			aws(nil, "ec2", "create-launch-template", "--launch-template-name", "lt-"+version,
				"--launch-template-data", `{"ImageId":"`+ami+`","InstanceType":"t2.nano","TagSpecifications":[{"ResourceType":"instance","Tags":[{"Key":"from","Value":"template"}]}]}`)
			var templates struct {
				LaunchTemplateVersions []struct {
					VersionNumber      int
					LaunchTemplateData struct{ ImageId, InstanceType string }
				}
			}
			aws(&templates, "ec2", "describe-launch-template-versions", "--launch-template-name", "lt-"+version, "--versions", "$Latest")
			if len(templates.LaunchTemplateVersions) != 1 || templates.LaunchTemplateVersions[0].LaunchTemplateData.ImageId != ami {
				t.Fatalf("describe-launch-template-versions: %+v", templates)
			}
			var groups struct {
				PlacementGroups []struct{ GroupName, Strategy, State string }
			}
			aws(&groups, "ec2", "describe-placement-groups", "--group-names", "pg-"+version)
			if len(groups.PlacementGroups) != 1 || groups.PlacementGroups[0].Strategy != "spread" || groups.PlacementGroups[0].State != "available" {
				t.Fatalf("describe-placement-groups: %+v", groups)
			}
			aws(&run, "ec2", "run-instances", "--launch-template", "LaunchTemplateName=lt-"+version, "--count", "1",
				"--placement", "GroupName=pg-"+version,
				"--user-data", "file://"+userData, "--key-name", "cli-"+version,
				"--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=cli-"+version+"}]")
			if len(run.Instances) != 1 {
				t.Fatalf("run-instances: %+v", run)
			}
			id, ip := run.Instances[0].InstanceId, run.Instances[0].PrivateIpAddress
			aws(nil, "ec2", "wait", "instance-running", "--instance-ids", id)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			if err := e2e.WaitHTTP(ctx, ip, "/cli", "launched-by-the-aws-cli"); err != nil {
				t.Fatalf("user data did not run: %v\n%s", err, c.MustCLI("console-output", id))
			}
			// The guest read both from the metadata service, not the seed disk.
			if err := e2e.WaitHTTP(ctx, ip, "/key", keyBody); err != nil {
				t.Fatalf("the key pair did not reach the guest: %v\n%s", err, c.MustCLI("console-output", id))
			}
			if console := c.MustCLI("console-output", id); !strings.Contains(console, "running user-data from metadata") {
				t.Fatalf("user data did not come from the metadata service:\n%s", console)
			}
			var found struct {
				Reservations []struct{ Instances []struct{ InstanceId string } }
			}
			aws(&found, "ec2", "describe-instances", "--filters", "Name=tag:Name,Values=cli-"+version, "Name=instance-state-name,Values=running",
				"Name=placement-group-name,Values=pg-"+version, "Name=tag:from,Values=template")
			if len(found.Reservations) != 1 || found.Reservations[0].Instances[0].InstanceId != id {
				t.Fatalf("describe-instances by tag: %+v", found)
			}
			aws(nil, "ec2", "stop-instances", "--instance-ids", id)
			waitEC2State(t, aws, id, "stopped")
			aws(nil, "ec2", "start-instances", "--instance-ids", id)
			waitEC2State(t, aws, id, "running")
			var image struct{ ImageId string }
			aws(&image, "ec2", "create-image", "--instance-id", id, "--name", "cli-image-"+version)
			var own struct {
				Images []struct{ ImageId, State string }
			}
			aws(&own, "ec2", "describe-images", "--owners", "self")
			if len(own.Images) != 1 || own.Images[0].ImageId != image.ImageId || own.Images[0].State != "available" {
				t.Fatalf("create-image %s, then the account's images: %+v", image.ImageId, own)
			}
			waitEC2State(t, aws, id, "running")
			aws(nil, "ec2", "deregister-image", "--image-id", image.ImageId)
			aws(nil, "ec2", "terminate-instances", "--instance-ids", id)
			waitEC2State(t, aws, id, "terminated")
			aws(nil, "ec2", "delete-placement-group", "--group-name", "pg-"+version)
			aws(nil, "ec2", "delete-launch-template", "--launch-template-name", "lt-"+version)

			out, err := awsCommand(c, path, "not-the-secret", "ec2", "describe-instances").CombinedOutput()
			if err == nil || !(strings.Contains(string(out), "SignatureDoesNotMatch") || strings.Contains(string(out), "AuthFailure")) {
				t.Fatalf("a wrong secret was not refused: %v\n%s", err, out)
			}
		})
	}
	t.Run("elb", func(t *testing.T) { elbThroughCLI(t, c, "/usr/bin/aws", ami) })
	t.Run("boto3", func(t *testing.T) { boto3Flow(t, c, ami) })
}

// boto3Flow runs a script written against boto3, unchanged, with Debian's
// Python and boto3 (the host setup installs them): its user data must run
// in the guest, and waiters, paginators, create-image and error codes must
// behave as on EC2.
func boto3Flow(t *testing.T, c *e2e.Cloud, ami string) {
	script := func(out any, args ...string) {
		t.Helper()
		cmd := exec.Command("/usr/bin/python3", append([]string{"testdata/boto3_flow.py"}, args...)...)
		cmd.Env = append(os.Environ(), "KUMO_ENDPOINT=http://"+c.Addr,
			"AWS_ACCESS_KEY_ID="+e2e.AdminKeyID, "AWS_SECRET_ACCESS_KEY="+e2e.AdminSecret,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
		runJSON(t, cmd, "boto3 "+strings.Join(args, " "), out)
	}
	var launched struct{ ID, IP string }
	script(&launched, "launch", ami)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := e2e.WaitHTTP(ctx, launched.IP, "/boto3", "launched-by-boto3"); err != nil {
		t.Fatalf("user data did not run: %v\n%s", err, c.MustCLI("console-output", launched.ID))
	}
	var raw map[string]any
	script(&raw, "finish", launched.ID)
	want := map[string]any{"stopped": "stopped", "started": "running", "after_image": "running",
		"own_images": []any{"boto3-image"}, "terminated": "terminated", "unknown_instance": "InvalidInstanceID.NotFound"}
	for k, v := range want {
		if fmt.Sprint(raw[k]) != fmt.Sprint(v) {
			t.Errorf("boto3 saw %s = %v, want %v", k, raw[k], v)
		}
	}
	if n, _ := raw["listed"].(float64); n < 1 {
		t.Errorf("the describe_instances paginator listed %v instances", raw["listed"])
	}
}

// elbThroughCLI puts two instances launched with the AWS CLI behind a
// classic ELB made with the AWS CLI, and checks requests reach both.
func elbThroughCLI(t *testing.T, c *e2e.Cloud, path, ami string) {
	aws := awsRunner(t, c, path, e2e.AdminSecret)
	var run struct {
		Instances []struct{ InstanceId string }
	}
	aws(&run, "ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.nano", "--count", "2")
	ids := []string{run.Instances[0].InstanceId, run.Instances[1].InstanceId}
	aws(nil, "ec2", "wait", "instance-running", "--instance-ids", ids[0], ids[1])
	port := freeLoopbackPort(t)
	aws(nil, "elb", "create-load-balancer", "--load-balancer-name", "cli-web", "--availability-zones", "local-a",
		"--listeners", fmt.Sprintf("Protocol=TCP,LoadBalancerPort=%d,InstanceProtocol=TCP,InstancePort=80", port))
	aws(nil, "elb", "configure-health-check", "--load-balancer-name", "cli-web",
		"--health-check", "Target=HTTP:80/,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2")
	aws(nil, "elb", "register-instances-with-load-balancer", "--load-balancer-name", "cli-web",
		"--instances", ids[0], ids[1])
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var health struct {
			InstanceStates []struct{ InstanceId, State string }
		}
		aws(&health, "elb", "describe-instance-health", "--load-balancer-name", "cli-web")
		in := 0
		for _, st := range health.InstanceStates {
			if st.State == "InService" {
				in++
			}
		}
		if in == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances not in service: %+v", health)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if seen := spread(t, fmt.Sprintf("127.0.0.1:%d", port), 20); len(seen) != 2 || seen[ids[0]] == 0 || seen[ids[1]] == 0 {
		t.Fatalf("requests through the ELB reached %v, want %v", seen, ids)
	}
	aws(nil, "elb", "delete-load-balancer", "--load-balancer-name", "cli-web")
	aws(nil, "ec2", "terminate-instances", "--instance-ids", ids[0], ids[1])
}

// awsRunner returns a function that runs an AWS CLI command against kumod
// and decodes its JSON output into out (when not nil).
func awsRunner(t *testing.T, c *e2e.Cloud, path, secret string) func(out any, args ...string) {
	return func(out any, args ...string) {
		t.Helper()
		runJSON(t, awsCommand(c, path, secret, args...), "aws "+strings.Join(args, " "), out)
	}
}

// runJSON runs a client's command, failing the test with its error output
// if it fails, and decodes its JSON output into out (when not nil).
func runJSON(t *testing.T, cmd *exec.Cmd, what string, out any) {
	t.Helper()
	stdout, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s: %v\n%s", what, err, stderr)
	}
	if out == nil {
		return
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, stdout)
	}
}

// awsCommand runs an AWS CLI with nothing of the machine's own AWS setup:
// no config or credentials files, no instance metadata lookups.
func awsCommand(c *e2e.Cloud, path, secret string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, append([]string{"--endpoint-url", "http://" + c.Addr, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+e2e.AdminKeyID, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=local",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	return cmd
}

// waitEC2State polls describe-instances until the instance is in state.
func waitEC2State(t *testing.T, aws func(any, ...string), id, state string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var out struct {
			Reservations []struct {
				Instances []struct{ State struct{ Name string } }
			}
		}
		aws(&out, "ec2", "describe-instances", "--instance-ids", id)
		if got := out.Reservations[0].Instances[0].State.Name; got == state {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("%s still %s, want %s", id, got, state)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
