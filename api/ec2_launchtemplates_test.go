package api

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2LaunchTemplates(t *testing.T) {
	client, _, imageID := newEC2(t)
	ctx := context.Background()
	created, err := client.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("web"), VersionDescription: aws.String("first"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT2Nano,
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho from the template\n"))),
			TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("role"), Value: aws.String("web")}, {Key: aws.String("Name"), Value: aws.String("web")}}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	lt := created.LaunchTemplate
	if aws.ToString(lt.LaunchTemplateName) != "web" || aws.ToInt64(lt.DefaultVersionNumber) != 1 || aws.ToInt64(lt.LatestVersionNumber) != 1 ||
		aws.ToString(lt.LaunchTemplateId) == "" || aws.ToString(lt.CreatedBy) == "" || lt.CreateTime == nil {
		t.Fatalf("created %+v", lt)
	}
	ref := func(version string) *ec2types.LaunchTemplateSpecification {
		return &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String(version)}
	}

	// Version 2 from version 1: only the type changes.
	v2, err := client.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: lt.LaunchTemplateId, SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT2Small}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(v2.LaunchTemplateVersion.VersionNumber) != 2 || aws.ToBool(v2.LaunchTemplateVersion.DefaultVersion) {
		t.Fatalf("version 2: %+v", v2.LaunchTemplateVersion)
	}
	versions, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String("web"), Versions: []string{"$Latest", "$Default"}})
	if err != nil || len(versions.LaunchTemplateVersions) != 2 {
		t.Fatalf("$Latest and $Default: %+v %v", versions, err)
	}
	latest, def := versions.LaunchTemplateVersions[0], versions.LaunchTemplateVersions[1]
	if aws.ToInt64(latest.VersionNumber) != 2 || latest.LaunchTemplateData.InstanceType != ec2types.InstanceTypeT2Small ||
		aws.ToString(latest.LaunchTemplateData.ImageId) != imageID || len(latest.LaunchTemplateData.TagSpecifications) != 1 ||
		aws.ToInt64(def.VersionNumber) != 1 || !aws.ToBool(def.DefaultVersion) || aws.ToString(def.VersionDescription) != "first" {
		t.Fatalf("latest %+v, default %+v", latest, def)
	}

	// A launch from the default version, with no image of its own, takes
	// the template's image, type, user data and tags; its own tags win.
	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{LaunchTemplate: ref("$Default"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("mine")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	in := run.Instances[0]
	tagged := map[string]string{}
	for _, tg := range in.Tags {
		tagged[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if aws.ToString(in.ImageId) != imageID || in.InstanceType != ec2types.InstanceTypeT2Nano || tagged["role"] != "web" || tagged["Name"] != "mine" {
		t.Fatalf("launched from the template: %s %s %v", aws.ToString(in.ImageId), in.InstanceType, tagged)
	}
	// A type given in the request wins over the template's.
	run, err = client.RunInstances(ctx, &ec2.RunInstancesInput{LaunchTemplate: ref("2"), InstanceType: ec2types.InstanceTypeT2Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil || run.Instances[0].InstanceType != ec2types.InstanceTypeT2Micro {
		t.Fatalf("type over the template's: %+v %v", run, err)
	}

	if _, err := client.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	listed, err := client.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{
		Filters: []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: []string{"w*"}}}})
	if err != nil || len(listed.LaunchTemplates) != 1 || aws.ToInt64(listed.LaunchTemplates[0].DefaultVersionNumber) != 2 {
		t.Fatalf("listed %+v %v", listed, err)
	}

	refusals := map[string]struct {
		call func() error
		code string
	}{
		"duplicate name": {func() error {
			_, err := client.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}})
			return err
		}, "InvalidLaunchTemplateName.AlreadyExistsException"},
		"malformed name": {func() error {
			_, err := client.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("a b"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}})
			return err
		}, "InvalidLaunchTemplateName.MalformedException"},
		"launch from an unknown template": {func() error {
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("nope")}})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		"launch from version 9": {func() error {
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{LaunchTemplate: ref("9"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		"launch with neither image nor template": {func() error {
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			return err
		}, "MissingParameter"},
	}
	for name, r := range refusals {
		t.Run(name, func(t *testing.T) {
			if err := r.call(); apiCode(err) != r.code {
				t.Fatalf("got %v, want %s", err, r.code)
			}
		})
	}

	if _, err := client.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"web"}}); apiCode(err) != "InvalidLaunchTemplateName.NotFoundException" {
		t.Fatalf("describe a deleted template: %v", err)
	}
}
