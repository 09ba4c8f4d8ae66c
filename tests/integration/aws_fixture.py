"""Builds a cluster's AWS side in moto (and the stand-in, for what moto lacks) from a small
declarative spec, so each test states only what it is about.

spec keys (all optional but `version`):
  version          control-plane version, e.g. "1.34"
  subnets          {name: (az, prefix_length)}; free IPs = 2**(32-prefix) - 5 (moto's count)
  cluster_subnets  subnet names of the cluster's VPC config
  node_groups      [{name, subnets, ami_type, template: {versions, use}, health: [issue…]}]
  fargate          [{name, subnets, namespaces}]
  self_managed     [{name, subnets, template: {versions, use}, mixed: bool, launch_configuration: bool}]
  addons           [{addonName, addonVersion, health: {issues: […]}}]
  addon_versions   {"1.35": [{"addonName", "addonVersions": [{"addonVersion", "compatibilities": […]}]}]}
  insights         [{id, name, category, kubernetesVersion, insightStatus: {status, reason}, recommendation,
                    categorySpecificSummary: {deprecationDetails: [{usage, …, clientStats: […]}]}}]
  updates          [{id, type, status, createdAt, params: [{type, value}], errors}] (ListUpdates/DescribeUpdate)
  cluster          fields merged into DescribeCluster (health, outpostConfig, upgradePolicy,
                   computeConfig, remoteNetworkConfig)
  quotas           {"ec2/L-1216C47A": limit, …}
  instances        number of running m5.large instances (1 vCPU each under moto)
  instance_types   {instance type: count} of further running instances (e.g. inf2.xlarge)
  volumes          [(type, GiB)]
  cluster_versions DescribeClusterVersions entries (default: data/eks-versions.csv)
  certificate_authorities  DescribeCertificateAuthority shapes (certificate_authority()); default:
                   the stand-in's initial CA, signing until 2033
"""

import datetime

import boto3

from harness import ACCOUNT, REGION, http_json


def clients(moto_url):
    kw = dict(region_name=REGION, endpoint_url=moto_url, aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("ec2", **kw), boto3.client("eks", **kw), boto3.client("autoscaling", **kw)


def addon_catalog(name, versions, default, kubernetes_version):
    """DescribeAddonVersions entry for one addon on one Kubernetes version: `versions`
    supported, `default` the default. Like EKS, each version also lists an older cluster
    version whose default flag must not leak into this one."""
    return {
        "addonName": name,
        "type": "networking",
        "addonVersions": [
            {"addonVersion": v, "architecture": ["amd64", "arm64"],
             "compatibilities": [
                 {"clusterVersion": kubernetes_version, "platformVersions": ["*"], "defaultVersion": v == default},
                 {"clusterVersion": "1.20", "platformVersions": ["*"], "defaultVersion": True},
             ]}
            for v in versions
        ],
    }


def epoch(day):
    """A `yyyy-mm-dd` day as the epoch seconds EKS answers timestamps in."""
    return int(datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc).timestamp())


def certificate_authority(ca_id, signing, distribution, created, not_after, activated=None, first=None, final=None):
    """A cluster CA in the shape of DescribeCertificateAuthority, dates as `yyyy-mm-dd`."""
    ca = {"id": ca_id, "createdAt": epoch(created), "createdBy": "EKS", "signingStatus": signing,
          "distributionStatus": distribution, "validity": {"notBefore": epoch(created), "notAfter": epoch(not_after)},
          "rollbackAvailable": False, "data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}
    if activated:
        ca.update(activatedAt=epoch(activated), activatedBy="EKS")
    if first or final:
        ca["scheduledEvents"] = {k: epoch(v) for k, v in (("firstAutoActivation", first), ("finalAutoActivation", final)) if v}
    return ca


def build(moto_url, standin_url, name, spec):
    ec2, eks, asg = clients(moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = {}
    for i, (sname, (az, prefix)) in enumerate(sorted(spec.get("subnets", {}).items())):
        cidr = f"10.0.{4 * i}.0/{prefix}"
        subnet_ids[sname] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
    ids = lambda names: [subnet_ids[n] for n in names]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def template(tname, tspec):
        lt = ec2.create_launch_template(LaunchTemplateName=tname, LaunchTemplateData={"ImageId": ami})["LaunchTemplate"]
        for _ in range(tspec.get("versions", 1) - 1):
            ec2.create_launch_template_version(LaunchTemplateId=lt["LaunchTemplateId"], LaunchTemplateData={"ImageId": ami})
        return lt["LaunchTemplateId"]

    cluster_subnets = ids(spec.get("cluster_subnets", [])) or list(subnet_ids.values())[:2] or ["subnet-none"]
    eks.create_cluster(name=name, version=spec["version"], roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
                       resourcesVpcConfig={"subnetIds": cluster_subnets})
    ng_patches = {}
    for ng in spec.get("node_groups", []):
        kw = {}
        if "template" in ng:
            kw["launchTemplate"] = {"id": template(f"{name}-{ng['name']}", ng["template"]), "version": ng["template"]["use"]}
        eks.create_nodegroup(clusterName=name, nodegroupName=ng["name"], nodeRole=f"arn:aws:iam::{ACCOUNT}:role/node",
                             subnets=ids(ng["subnets"]), version=spec["version"], amiType=ng.get("ami_type", "AL2023_x86_64_STANDARD"), **kw)
        if ng.get("health"):
            ng_patches[ng["name"]] = {"health": {"issues": ng["health"]}}
    for fp in spec.get("fargate", []):
        eks.create_fargate_profile(clusterName=name, fargateProfileName=fp["name"],
                                   podExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/fargate",
                                   subnets=ids(fp["subnets"]), selectors=[{"namespace": n} for n in fp.get("namespaces", ["default"])])
    for g in spec.get("self_managed", []):
        kw = {}
        if g.get("launch_configuration"):
            asg.create_launch_configuration(LaunchConfigurationName=f"{g['name']}-lc", ImageId=ami, InstanceType="m5.large")
            kw["LaunchConfigurationName"] = f"{g['name']}-lc"
        elif g.get("mixed"):
            lt = template(f"{name}-{g['name']}", g["template"])
            kw["MixedInstancesPolicy"] = {"LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": g["template"]["use"]},
                "Overrides": [{"InstanceType": "m5.large"}, {"InstanceType": "m6i.large"}]}}
        else:
            lt = template(f"{name}-{g['name']}", g["template"])
            kw["LaunchTemplate"] = {"LaunchTemplateId": lt, "Version": g["template"]["use"]}
        asg.create_auto_scaling_group(
            AutoScalingGroupName=g["name"], MinSize=0, MaxSize=3, DesiredCapacity=0,
            VPCZoneIdentifier=",".join(ids(g["subnets"])),
            Tags=[{"Key": f"kubernetes.io/cluster/{name}", "Value": "owned", "PropagateAtLaunch": True}], **kw)
    if spec.get("instances"):
        ec2.run_instances(ImageId=ami, InstanceType="m5.large", MinCount=spec["instances"], MaxCount=spec["instances"])
    for itype, count in spec.get("instance_types", {}).items():
        ec2.run_instances(ImageId=ami, InstanceType=itype, MinCount=count, MaxCount=count)
    for vtype, size in spec.get("volumes", []):
        ec2.create_volume(Size=size, VolumeType=vtype, AvailabilityZone="us-east-1a")

    registration = {
        "cluster": spec.get("cluster", {}),
        "nodegroups": ng_patches,
        "addons": spec.get("addons", []),
        "insights": spec.get("insights", []),
        "certificate_authorities": spec.get("certificate_authorities", []),
        "updates": spec.get("updates", []),
    }
    http_json(f"{standin_url}/_standin/clusters/{name}", "POST", registration)
    if spec.get("addon_versions"):
        http_json(f"{standin_url}/_standin/addon-versions", "POST", spec["addon_versions"])
    if spec.get("quotas"):
        http_json(f"{standin_url}/_standin/quotas", "POST", spec["quotas"])
    if spec.get("cluster_versions") is not None:
        http_json(f"{standin_url}/_standin/cluster-versions", "POST", {"clusterVersions": spec["cluster_versions"]})
    return subnet_ids
