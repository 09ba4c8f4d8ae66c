//! Whole playbooks for the fixture clusters, as insta snapshots, and a Markdown check that
//! every internal link resolves and nothing unfilled remains.

use std::collections::HashSet;
use std::path::Path;

use eksup::output::playbook;
use eksup::run::analyze::{Evaluation, evaluate_snapshot};
use eksup::snapshot::Snapshot;
use eksup::version::KubeVersion;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// The playbook of a committed snapshot, with support windows measured as of `as_of`.
fn playbook_for(file: &str, target: Option<&str>, as_of: &str) -> String {
    playbook_of(load(file), target, as_of.parse().unwrap())
}

fn load(file: &str) -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    Snapshot::load(&path).expect("fixture snapshot loads")
}

fn playbook_of(snapshot: Snapshot, target: Option<&str>, as_of: chrono::NaiveDate) -> String {
    let requested = target.map(|t| t.parse::<KubeVersion>().unwrap());
    let how = Evaluation {
        as_of: Some(as_of),
        ..Evaluation::default()
    };
    let a = evaluate_snapshot(snapshot, requested, &how).unwrap();
    playbook::render(&playbook::build(&a.snapshot, &a.report, a.as_of)).expect("renders")
}

/// The playbook of `healthy.json` (1.34, collected 2026-06-01) after a version update to
/// 1.34 `days_ago` days before it was collected.
fn playbook_after_update(days_ago: i64) -> String {
    use eksup::snapshot::{ClusterUpdate, UpdateHistory};
    let mut snapshot = load("tests/fixtures/snapshots/healthy.json");
    let collected = snapshot.collected_at;
    snapshot.aws.as_mut().unwrap().updates = Some(UpdateHistory {
        updates: vec![ClusterUpdate {
            id: "update-1".into(),
            update_type: "VersionUpdate".into(),
            status: "Successful".into(),
            created_at: Some(collected - chrono::Duration::days(days_ago)),
            version: Some("1.34".into()),
        }],
        truncated: false,
    });
    playbook_of(snapshot, None, collected.date_naive())
}

/// The header says how to roll back while the 7-day window is open, and when it closed.
#[test]
fn the_header_gives_the_rollback_window() {
    let open = playbook_after_update(2);
    assert_well_formed(&open);
    let row = open
        .lines()
        .find(|l| l.starts_with("| Rollback |"))
        .expect("a rollback row");
    assert!(
        row.contains("EKS can roll the control plane back to 1.33"),
        "{row}"
    );
    assert!(row.contains("--kubernetes-version 1.33"), "{row}");
    let closed = playbook_after_update(9);
    let row = closed
        .lines()
        .find(|l| l.starts_with("| Rollback |"))
        .expect("a rollback row");
    assert!(
        row.contains("the window to roll back to 1.33 closed on"),
        "{row}"
    );
}

/// GitHub's anchor for a heading, written independently of the crate's own.
fn github_anchor(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Parses the Markdown: every `#anchor` link must name a heading, headings must be unique,
/// and no template syntax or placeholder may remain.
fn assert_well_formed(markdown: &str) {
    let mut headings = Vec::new();
    let mut links = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Heading { .. }) => current = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                headings.push(github_anchor(&current.take().unwrap()))
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = current.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) if dest_url.starts_with('#') => {
                links.push(dest_url[1..].to_string())
            }
            _ => {}
        }
    }
    let unique: HashSet<&String> = headings.iter().collect();
    assert_eq!(
        unique.len(),
        headings.len(),
        "duplicate headings: {headings:?}"
    );
    assert!(links.len() >= 8, "the table of contents links the sections");
    for link in &links {
        assert!(unique.contains(link), "link #{link} has no heading");
    }
    for unfilled in [
        "TODO",
        "<NODEGROUP",
        "{{",
        "{%",
        "None",
        "<cluster>",
        "<region>",
    ] {
        assert!(
            !markdown.contains(unfilled),
            "playbook contains {unfilled:?}"
        );
    }
}

#[test]
fn healthy_cluster() {
    let md = playbook_for("tests/fixtures/snapshots/healthy.json", None, "2026-06-01");
    assert_well_formed(&md);
    assert!(md.contains("Nothing to do: EKS reports no health issues."));
    assert!(
        !md.contains("### Cluster certificate authority"),
        "no rotation, no step"
    );
    insta::assert_snapshot!("healthy", md);
}

#[test]
fn every_kind_of_finding() {
    let md = playbook_for("examples/snapshot.json", None, "2026-10-15");
    assert_well_formed(&md);
    for code in [
        "K8S001", "K8S002", "K8S013", "K8S101", "K8S102", "K8S015", "K8S103", "K8S014", "AWS001",
        "AWS003", "EKS001", "EKS002", "EKS005", "EKS008", "EKS009", "EKS101", "EKS103", "EKS106",
        "K8S104", "K8S105",
    ] {
        assert!(
            md.contains(&format!("· {code} ·")),
            "{code} is in the playbook"
        );
    }
    assert!(md.contains("| Readiness for 1.35 | **blocked**: "));
    // Drain blockers lead the workload section; node checks have their own section and
    // repeat under the node group they are about.
    let workloads = &md[md.find("### Workload availability").unwrap()..];
    assert!(workloads.find("#### K8S101").unwrap() < workloads.find("#### K8S002").unwrap());
    assert!(md.contains("### Node operating systems and container runtimes"));
    let ng_al2 = &md[md.find("#### Managed node group ng-al2 (1.35)").unwrap()..];
    let ng_al2 = &ng_al2[..ng_al2[4..].find("#### ").unwrap() + 4];
    for code in ["EKS008", "K8S103", "K8S014"] {
        assert!(
            ng_al2.contains(&format!("· {code} · NodeGroup `ng-al2`")),
            "{code}"
        );
    }
    // The CA rotation gets its own step, with the successor's id in the commands.
    let ca = &md[md.find("### Cluster certificate authority").unwrap()..];
    let ca = &ca[..ca[4..].find("\n### ").unwrap() + 4];
    assert!(ca.contains("· EKS106 · CertificateAuthority `ca-4e5f6a7b`"));
    assert!(
        ca.contains("aws eks describe-certificate-authority --region us-east-1 --cluster-name ")
    );
    assert!(
        ca.contains("--certificate-authority-id ca-4e5f6a7b --query certificateAuthority.data")
    );
    assert!(ca.contains("kubectl config set-cluster arn:aws:eks:us-east-1:"));
    insta::assert_snapshot!("every-finding", md);
}

#[test]
fn two_hop_target() {
    let md = playbook_for(
        "tests/fixtures/snapshots/two-hop.json",
        Some("1.35"),
        "2026-06-01",
    );
    assert_well_formed(&md);
    assert!(md.contains("## Hop 1: 1.33 to 1.34") && md.contains("## Hop 2: 1.34 to 1.35"));
    assert!(
        md.contains("--kubernetes-version 1.34\n") && md.contains("--kubernetes-version 1.35\n")
    );
    // An addon updated in hop 1 starts hop 2 from its new version.
    assert!(md.contains("Update v1.33.3-eksbuild.2 → v1.34.0-eksbuild.2"));
    assert!(md.contains("Update v1.34.0-eksbuild.2 → v1.35.0-eksbuild.1"));
    insta::assert_snapshot!("two-hop", md);
}

#[test]
fn managed_self_managed_and_fargate_capacity() {
    let md = playbook_for(
        "tests/fixtures/snapshots/mixed-capacity.json",
        None,
        "2026-06-01",
    );
    assert_well_formed(&md);
    for section in [
        "#### Managed node group general (1.35)",
        "#### Managed node group gpu-custom-ami (1.35)",
        "#### Managed node group arm-lt (1.35)",
        "#### Self-managed node group legacy-workers (1.35)",
        "#### Self-managed node group old-lc-workers (1.35)",
        "#### Fargate profile serverless (1.35)",
    ] {
        assert!(md.contains(section), "{section}");
    }
    assert!(md.contains("aws autoscaling start-instance-refresh --region us-east-1 --auto-scaling-group-name legacy-workers"));
    assert!(md.contains("kubectl rollout restart deployment --namespace jobs"));
    assert!(md.contains("--nodegroup-name gpu-custom-ami --launch-template id=lt-"));
    insta::assert_snapshot!("mixed-capacity", md);
}
