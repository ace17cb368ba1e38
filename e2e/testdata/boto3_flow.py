"""Drives kumo with boto3, unchanged, as a script written for EC2 would.

launch AMI        run one t2.nano whose user data writes /www/boto3; print
                  {"id": ..., "ip": ...} once it is running.
finish ID         stop, start, create an image, terminate, deregister;
                  print what each step saw.

The endpoint and keys come from KUMO_ENDPOINT, AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY.
"""
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

FAST = {"Delay": 1, "MaxAttempts": 180}


def client():
    return boto3.client("ec2", endpoint_url=os.environ["KUMO_ENDPOINT"], region_name="local")


def launch(ec2, ami):
    out = ec2.run_instances(
        ImageId=ami, InstanceType="t2.nano", MinCount=1, MaxCount=1,
        UserData="#!/bin/sh\necho launched-by-boto3 > /www/boto3\n",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "boto3"}]}])
    instance = out["Instances"][0]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig=FAST)
    return {"id": instance["InstanceId"], "ip": instance["PrivateIpAddress"]}


def state(ec2, instance_id):
    out = ec2.describe_instances(InstanceIds=[instance_id])
    return out["Reservations"][0]["Instances"][0]["State"]["Name"]


def finish(ec2, instance_id):
    seen = {}
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    seen["stopped"] = state(ec2, instance_id)
    ec2.start_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    seen["started"] = state(ec2, instance_id)

    # As on EC2, making the image reboots the instance: it comes back.
    image_id = ec2.create_image(InstanceId=instance_id, Name="boto3-image")["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=FAST)
    mine = ec2.describe_images(Owners=["self"])["Images"]
    seen["own_images"] = [im["Name"] for im in mine]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    seen["after_image"] = state(ec2, instance_id)

    pages = ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5})
    seen["listed"] = sum(len(r["Instances"]) for page in pages for r in page["Reservations"])

    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    seen["terminated"] = state(ec2, instance_id)
    ec2.deregister_image(ImageId=image_id)

    try:
        ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
        seen["unknown_instance"] = "no error"
    except ClientError as e:
        seen["unknown_instance"] = e.response["Error"]["Code"]
    return seen


def main():
    ec2 = client()
    if sys.argv[1] == "launch":
        result = launch(ec2, sys.argv[2])
    else:
        result = finish(ec2, sys.argv[2])
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
