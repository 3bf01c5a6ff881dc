"""deploy/k8s: every overlay renders with a real kustomize, every document is valid, and the deployment
invariants hold.

- kustomize: `infra/kustomize.sh` prints its path, building the pinned version from the Go module proxy
  first when it is missing (never skipped).
- Kubernetes kinds are validated strictly (unknown fields are errors) with `kubernetes-validate`'s
  bundled schemas, for the oldest Kubernetes version we support and for the newest it knows.
- Custom resources (Strimzi KafkaTopic/KafkaUser, CloudNativePG Cluster, KEDA ScaledObject/
  TriggerAuthentication) are not in those schemas: they get the minimal structural schemas below, which
  cover the fields we use and reject unknown ones at the levels where a typo would silently do nothing.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.events import registry
from shared.events.topics import (
    ALL_TOPICS,
    CRM_TOPICS,
    DEAD_LETTER_TOPICS,
    PLATFORM_TOPICS,
    SERVICES,
    UPSTREAM_TOPICS,
    retention_ms,
)
from shared.runtime.outbox import transactional_id
from shared.runtime.settings import KafkaSettings

pytestmark = pytest.mark.timeout(900)  # a cold kustomize build (module downloads) is part of setup

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
NAMESPACES = {"dev": "whale-crm-dev", "prod": "whale-crm"}
KAFKA_NAMESPACE = "kafka"
KAFKA_CA = "whale-kafka-cluster-ca-cert"  # Strimzi's cluster CA certificate, mirrored into the app namespace
MIN_K8S_VERSION = "1.30.0"  # lifecycle.preStop.sleep is on by default from 1.30
K8S_VERSIONS = (MIN_K8S_VERSION, kubernetes_validate.latest_version())
DB_INSTANCES = {"dev": 1, "prod": 3}

# Which service consumes which topics (the lead's conventions; consumer group `whale-<service>`).
ACCESS_TOPIC = "crm.access.events"  # every service's access directory reads it (shared.runtime.access_directory)
CONSUMES: dict[str, set[str]] = {
    "customer": set(UPSTREAM_TOPICS) | {"crm.assignment.events", "crm.tasks.events", "crm.kyc.events",
                                         "crm.usercrm.events", "crm.campaigns.events", "brokerage.wealth",
                                         ACCESS_TOPIC},
    "assignment": {"crm.customer.events", "crm.tasks.events", "crm.usercrm.events", ACCESS_TOPIC},
    "tasks": {"crm.customer.events", "crm.assignment.events", "crm.kyc.events", "crm.campaigns.events", ACCESS_TOPIC,
              "brokerage.telephony", "brokerage.sms"},
    "summary": {"crm.customer.events", "crm.assignment.events", "crm.tasks.events", "crm.kyc.events", ACCESS_TOPIC},
    "kyc": {"brokerage.account", "brokerage.kyc", ACCESS_TOPIC},
    "usercrm": {"brokerage.registration", "brokerage.kyc", "brokerage.account", "brokerage.funding",
                "brokerage.trading", "brokerage.profile", "brokerage.security", "brokerage.banking",
                "brokerage.allocation", "brokerage.charges", "brokerage.request_results", "crm.kyc.events",
                "crm.assignment.events", ACCESS_TOPIC},
    "campaigns": {"crm.customer.events", "crm.assignment.events", "crm.tasks.events", "brokerage.trading",
                  "brokerage.outreach_results", ACCESS_TOPIC},
    # publishes only (its rights come from its own read model): a fixed pair of workers (one relay, one
    # standby), no ScaledObject
    "access": set(),
    "audit": {"crm.audit.records", ACCESS_TOPIC},  # one partition (the chain's order): a fixed pair, one reading
}
# Every service's API publishes its audit records (shared.runtime.audit) to this topic, without a relay.
AUDIT_RECORDS = "crm.audit.records"
# The audit worker publishes the chain's head here (services/audit/anchors.py), without a relay; the
# verification reads it back from its start, without a consumer group (so no lag to scale on).
AUDIT_ANCHORS = "crm.audit.anchors"
READS_ALSO: dict[str, set[str]] = {"audit": {AUDIT_ANCHORS}}


def scales_on(svc: str) -> set[str]:
    """Topics whose lag scales a worker: what it consumes but the access topic (a few events a day, read by
    every replica's directory consumer in the one group whale-<service>-access; no reason to add pods)."""
    return CONSUMES[svc] - {ACCESS_TOPIC}


# Topics a service writes besides its own crm.<service>.events and dead letters (command topics).
EXTRA_WRITES: dict[str, set[str]] = {"usercrm": {"crm.usercrm.requests"}, "campaigns": {"crm.campaigns.requests"},
                                     "audit": {AUDIT_ANCHORS}}
PORTS = {"api": 8000, "worker": 8001}
# Upper bound of PostgreSQL connections one pod opens: SQLAlchemy pool 10 + overflow 10
# (shared/runtime/db.py) and the event store's 5 + 5 (shared/runtime/eventstore.py).
CONNECTIONS_PER_POD = 30
# The customer API's reads have their own engine (services/customer/bootstrap.read_engine: 10 + 10) and the
# list's async reader (shared/runtime/async_reader: 10) besides.
API_CONNECTIONS = {"customer": CONNECTIONS_PER_POD + 20 + 10}
CONNECTIONS_RESERVED = 10  # superuser_reserved_connections and the CNPG instance manager / exporter
GATEWAY_LABELS = {"whale-crm.io/role": "frontend-gateway"}
WEB_PORT = 8080  # the web gateway's nginx (unprivileged)
INGRESS_CONTROLLER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
}

# --------------------------------------------------------------------------------------------------
# Minimal structural schemas of the custom resources we use.

_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_QUANTITY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"}
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": _NAME, "namespace": _NAME, "labels": _STR_MAP, "annotations": _STR_MAP},
    "additionalProperties": False,
}


def _resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
        },
        "additionalProperties": False,
    }


_STRIMZI_METADATA = {
    **_METADATA,
    "required": ["name", "namespace", "labels"],
    "properties": {
        **_METADATA["properties"],
        "labels": {**_STR_MAP, "required": ["strimzi.io/cluster"]},
    },
}

KAFKA_TOPIC = _resource(
    "kafka.strimzi.io/v1beta2",
    "KafkaTopic",
    {
        "type": "object",
        "required": ["topicName", "partitions", "replicas", "config"],
        "properties": {
            "topicName": {"type": "string", "pattern": r"^[a-zA-Z0-9._-]{1,249}$"},
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": {
                "type": "object",
                "additionalProperties": {"type": ["string", "integer", "boolean", "number"]},
                "required": ["cleanup.policy", "retention.ms", "min.insync.replicas"],
            },
        },
        "additionalProperties": False,
    },
)
KAFKA_TOPIC["properties"]["metadata"] = _STRIMZI_METADATA

KAFKA_USER = _resource(
    "kafka.strimzi.io/v1beta2",
    "KafkaUser",
    {
        "type": "object",
        "required": ["authentication", "authorization"],
        "properties": {
            "authentication": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}},
                "additionalProperties": False,
            },
            "authorization": {
                "type": "object",
                "required": ["type", "acls"],
                "properties": {
                    "type": {"const": "simple"},
                    "acls": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["resource", "operations"],
                            "properties": {
                                "resource": {
                                    "type": "object",
                                    "required": ["type"],
                                    "properties": {
                                        "type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
                                        "name": {"type": "string", "minLength": 1},
                                        "patternType": {"enum": ["literal", "prefix"]},
                                    },
                                    "additionalProperties": False,
                                },
                                "operations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "enum": [
                                            "Read",
                                            "Write",
                                            "Create",
                                            "Delete",
                                            "Alter",
                                            "Describe",
                                            "ClusterAction",
                                            "AlterConfigs",
                                            "DescribeConfigs",
                                            "IdempotentWrite",
                                            "All",
                                        ]
                                    },
                                },
                                "host": {"type": "string"},
                                "type": {"enum": ["allow", "deny"]},
                            },
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
)
KAFKA_USER["properties"]["metadata"] = _STRIMZI_METADATA

_RESOURCES = {
    "type": "object",
    "properties": {
        "requests": {"type": "object", "additionalProperties": _QUANTITY},
        "limits": {"type": "object", "additionalProperties": _QUANTITY},
    },
    "additionalProperties": False,
}
_STORAGE = {
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": _QUANTITY,
        "storageClass": {"type": "string"},
        "resizeInUseVolumes": {"type": "boolean"},
        "pvcTemplate": {"type": "object"},
    },
    "additionalProperties": False,
}
CNPG_CLUSTER = _resource(
    "postgresql.cnpg.io/v1",
    "Cluster",
    {
        "type": "object",
        "required": ["instances", "storage", "bootstrap"],
        "properties": {
            "description": {"type": "string"},
            "instances": {"type": "integer", "minimum": 1},
            "imageName": {"type": "string", "pattern": r"^[^:@\s]+[:@][^\s]+$"},
            "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
            "primaryUpdateMethod": {"enum": ["switchover", "restart"]},
            "enableSuperuserAccess": {"type": "boolean"},
            "bootstrap": {
                "type": "object",
                "properties": {
                    "initdb": {
                        "type": "object",
                        "required": ["database", "owner"],
                        "properties": {
                            "database": {"type": "string"},
                            "owner": {"type": "string"},
                            "secret": {"type": "object"},
                            "postInitApplicationSQL": {"type": "array"},
                        },
                        "additionalProperties": False,
                    },
                    "recovery": {"type": "object"},
                    "pg_basebackup": {"type": "object"},
                },
                "additionalProperties": False,
            },
            "postgresql": {
                "type": "object",
                # CNPG takes every parameter as a string.
                "properties": {"parameters": _STR_MAP, "pg_hba": {"type": "array"}},
                "additionalProperties": False,
            },
            "storage": _STORAGE,
            "walStorage": _STORAGE,
            "resources": _RESOURCES,
            "affinity": {
                "type": "object",
                "properties": {
                    "enablePodAntiAffinity": {"type": "boolean"},
                    "topologyKey": {"type": "string"},
                    "podAntiAffinityType": {"enum": ["preferred", "required"]},
                    "nodeSelector": _STR_MAP,
                    "tolerations": {"type": "array"},
                },
                "additionalProperties": False,
            },
            "inheritedMetadata": {
                "type": "object",
                "properties": {"labels": _STR_MAP, "annotations": _STR_MAP},
                "additionalProperties": False,
            },
            "monitoring": {"type": "object"},
            "backup": {"type": "object"},
            "managed": {"type": "object"},
        },
        "additionalProperties": False,
    },
)

_KAFKA_TRIGGER_METADATA = {
    "type": "object",
    "required": ["bootstrapServers", "consumerGroup", "topic", "lagThreshold"],
    "properties": {
        "bootstrapServers": {"type": "string", "pattern": r"^[^,\s:]+:[0-9]+(,[^,\s:]+:[0-9]+)*$"},
        "consumerGroup": {"type": "string"},
        "topic": {"type": "string"},
        "lagThreshold": {"type": "string", "pattern": r"^[0-9]+$"},
        "activationLagThreshold": {"type": "string", "pattern": r"^[0-9]+$"},
        "offsetResetPolicy": {"enum": ["earliest", "latest"]},
        "allowIdleConsumers": {"enum": ["true", "false"]},
        "limitToPartitionsWithLag": {"enum": ["true", "false"]},
        "sasl": {"enum": ["none", "plaintext", "scram_sha256", "scram_sha512", "gssapi", "oauthbearer"]},
        "tls": {"enum": ["enable", "disable"]},
    },
    "additionalProperties": False,
}
SCALED_OBJECT = _resource(
    "keda.sh/v1alpha1",
    "ScaledObject",
    {
        "type": "object",
        "required": ["scaleTargetRef", "minReplicaCount", "maxReplicaCount", "triggers"],
        "properties": {
            "scaleTargetRef": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "envSourceContainerName": {"type": "string"},
                },
                "additionalProperties": False,
            },
            "pollingInterval": {"type": "integer", "minimum": 1},
            "cooldownPeriod": {"type": "integer", "minimum": 0},
            "initialCooldownPeriod": {"type": "integer", "minimum": 0},
            "idleReplicaCount": {"type": "integer", "minimum": 0},
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "fallback": {
                "type": "object",
                "required": ["failureThreshold", "replicas"],
                "properties": {
                    "failureThreshold": {"type": "integer", "minimum": 1},
                    "replicas": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
            "advanced": {
                "type": "object",
                "properties": {
                    "restoreToOriginalReplicaCount": {"type": "boolean"},
                    "horizontalPodAutoscalerConfig": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "behavior": {"type": "object"}},
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": False,
            },
            "triggers": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["type", "metadata"],
                    "properties": {
                        "type": {"const": "kafka"},
                        "name": {"type": "string"},
                        "metadata": _KAFKA_TRIGGER_METADATA,
                        "authenticationRef": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "kind": {"enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"]},
                            },
                            "additionalProperties": False,
                        },
                        "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                        "useCachedMetrics": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
)
TRIGGER_AUTHENTICATION = _resource(
    "keda.sh/v1alpha1",
    "TriggerAuthentication",
    {
        "type": "object",
        "required": ["secretTargetRef"],
        "properties": {
            "secretTargetRef": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["parameter", "name", "key"],
                    "properties": {"parameter": {"type": "string"}, "name": _NAME, "key": {"type": "string"}},
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
)

CUSTOM_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): KAFKA_TOPIC,
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): KAFKA_USER,
    ("postgresql.cnpg.io/v1", "Cluster"): CNPG_CLUSTER,
    ("keda.sh/v1alpha1", "ScaledObject"): SCALED_OBJECT,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): TRIGGER_AUTHENTICATION,
}
for _schema in CUSTOM_SCHEMAS.values():
    jsonschema.Draft202012Validator.check_schema(_schema)

# --------------------------------------------------------------------------------------------------
# Rendering


@pytest.fixture(scope="session")
def kustomize() -> str:
    """The pinned kustomize, built by infra/kustomize.sh when missing."""
    proc = subprocess.run(
        ["bash", str(REPO / "infra" / "kustomize.sh")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert proc.returncode == 0, f"infra/kustomize.sh failed:\n{proc.stderr}"
    path = proc.stdout.strip().splitlines()[-1]
    assert Path(path).is_file(), f"infra/kustomize.sh printed {path!r}, which is not a file"
    return path


@pytest.fixture(scope="session")
def rendered(kustomize: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for env in OVERLAYS:
        proc = subprocess.run(
            [kustomize, "build", str(REPO / "deploy" / "k8s" / "overlays" / env)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, f"kustomize build overlays/{env} failed:\n{proc.stderr}"
        out[env] = [d for d in yaml.safe_load_all(proc.stdout) if d is not None]
    return out


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def by_name(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in of_kind(docs, kind)}


def all_workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every Deployment and Job, the operator toolbox included."""
    return of_kind(docs, "Deployment") + of_kind(docs, "Job")


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The services' api/worker Deployments and migrate Jobs (not the operator toolbox)."""
    return [w for w in all_workloads(docs) if component(w)[0] in SERVICES]


def component(doc: dict[str, Any]) -> tuple[str, str]:
    labels = doc["spec"]["template"]["metadata"]["labels"]
    return labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"]


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"only matchLabels selectors are used here: {selector}"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


# --------------------------------------------------------------------------------------------------
# Rendering and schemas


@pytest.mark.parametrize("env", OVERLAYS)
def test_overlay_renders_all_expected_kinds(rendered, env):
    kinds = {d["kind"] for d in rendered[env]}
    assert kinds == {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "Deployment",
        "Job",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
        "ScaledObject",
        "TriggerAuthentication",
        "Cluster",
        "KafkaTopic",
        "KafkaUser",
        "PersistentVolumeClaim",
    }
    for doc in rendered[env]:
        if doc["kind"] == "Namespace":
            continue
        expected = KAFKA_NAMESPACE if doc["apiVersion"].startswith("kafka.strimzi.io/") else NAMESPACES[env]
        assert doc["metadata"].get("namespace") == expected, f"{doc['kind']}/{doc['metadata']['name']}"


def test_strict_validation_rejects_unknown_fields():
    """Guard against a validator that silently accepts anything."""
    bad = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}, "automountToken": False}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, MIN_K8S_VERSION, strict=True)
    topic = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {"name": "t", "namespace": "kafka", "labels": {"strimzi.io/cluster": "c"}},
        "spec": {
            "topicName": "t",
            "partitions": 1,
            "replicas": 1,
            "replica": 3,
            "config": {"cleanup.policy": "delete", "retention.ms": 1, "min.insync.replicas": 1},
        },
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(topic, KAFKA_TOPIC)


@pytest.mark.parametrize("env", OVERLAYS)
def test_every_document_is_valid(rendered, env):
    errors = []
    for doc in rendered[env]:
        ident = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        custom = CUSTOM_SCHEMAS.get((doc.get("apiVersion"), doc.get("kind")))
        if custom is not None:
            for err in jsonschema.Draft202012Validator(custom).iter_errors(doc):
                errors.append(f"{ident}: {'/'.join(map(str, err.absolute_path))}: {err.message}")
            continue
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError as exc:
                errors.append(f"{ident}: no schema ({exc.message}); add a structural schema to this test")
                break
            except kubernetes_validate.ValidationError as exc:
                errors.append(f"{ident} (k8s {version}): {'/'.join(map(str, exc.path))}: {exc.message}")
    assert not errors, "\n".join(errors)


# --------------------------------------------------------------------------------------------------
# Workloads


@pytest.mark.parametrize("env", OVERLAYS)
def test_each_service_has_api_worker_and_migrate(rendered, env):
    found = defaultdict(set)
    for wl in all_workloads(rendered[env]):
        svc, comp = component(wl)
        found[svc].add((wl["kind"], comp))
    expected = {("Deployment", "api"), ("Deployment", "worker"), ("Job", "migrate")}
    assert dict(found) == {**{svc: expected for svc in SERVICES}, "ops": {("Deployment", "toolbox")},
                           "web": {("Deployment", "gateway")}}
    toolbox = by_name(rendered[env], "Deployment")["ops-toolbox"]
    assert toolbox["spec"]["replicas"] == 0, "the toolbox is scaled up by an operator only when needed"


@pytest.mark.parametrize("env", OVERLAYS)
def test_workloads_are_hardened(rendered, env):
    problems = []
    accounts = by_name(rendered[env], "ServiceAccount")
    for wl in all_workloads(rendered[env]):
        name = f"{wl['kind']}/{wl['metadata']['name']}"
        pod = wl["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: pod automountServiceAccountToken is not false")
        if pod.get("serviceAccountName") not in accounts:
            problems.append(f"{name}: serviceAccountName {pod.get('serviceAccountName')!r} is not rendered")
        if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
            problems.append(f"{name}: pod is not runAsNonRoot with a non-zero runAsUser")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: pod seccompProfile is not RuntimeDefault")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod.get("initContainers", []) + pod["containers"]:
            cname = f"{name}[{c['name']}]"
            if wl["kind"] == "Deployment" and not ("livenessProbe" in c and "readinessProbe" in c):
                problems.append(f"{cname}: lacks a liveness or readiness probe")
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{cname}: root filesystem is not read-only")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{cname}: allowPrivilegeEscalation is not false")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
                problems.append(f"{cname}: capabilities are not exactly drop [ALL]")
            if sc.get("privileged"):
                problems.append(f"{cname}: privileged")
            if sc.get("runAsUser", psc.get("runAsUser")) in (None, 0):
                problems.append(f"{cname}: runs as root")
            if sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type") != "RuntimeDefault":
                problems.append(f"{cname}: seccompProfile is not RuntimeDefault")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(res.get(kind, {})):
                    problems.append(f"{cname}: resources.{kind} lacks cpu or memory")
            tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            if len(tmp) != 1 or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
                problems.append(f"{cname}: /tmp is not an emptyDir")
            image = c["image"]
            pinned = "@" in image or (":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"))
            if env == "prod" and not pinned:
                problems.append(f"{cname}: image {image!r} is not pinned")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("env", OVERLAYS)
def test_commands_and_probes_use_the_real_endpoints(rendered, env):
    for wl in workloads(rendered[env]):
        svc, comp = component(wl)
        (c,) = wl["spec"]["template"]["spec"]["containers"]
        assert c["command"] + c["args"] == ["python", "-m", f"services.{svc}", comp], wl["metadata"]["name"]
        if wl["kind"] == "Job":
            assert wl["spec"]["template"]["spec"]["restartPolicy"] == "Never"
            continue
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert list(ports.values()) == [PORTS[comp]], wl["metadata"]["name"]
        expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"}
        for probe, path in expected.items():
            assert probe in c, f"{wl['metadata']['name']} has no {probe}"
            http = c[probe]["httpGet"]
            assert http["path"] == path, f"{wl['metadata']['name']} {probe}"
            port = ports.get(http["port"], http["port"])
            assert port == PORTS[comp], f"{wl['metadata']['name']} {probe} port {http['port']}"


@pytest.mark.parametrize("env", OVERLAYS)
def test_environment_contract(rendered, env):
    docs = rendered[env]
    configmaps = by_name(docs, "ConfigMap")
    for wl in workloads(docs):
        svc, comp = component(wl)
        prefix = svc.upper() + "_"
        (c,) = wl["spec"]["template"]["spec"]["containers"]
        config: dict[str, str] = {}
        for src in c.get("envFrom", []):
            config.update(configmaps[src["configMapRef"]["name"]]["data"])
        env_vars = {e["name"]: e for e in c.get("env", [])}
        for var in (f"{prefix}DATABASE_URL", f"{prefix}EVENTSTORE_URL"):
            ref = env_vars[var]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": f"{svc}-db-app", "key": "uri"}, f"{wl['metadata']['name']} {var}"
        assert config[f"{prefix}LOG_LEVEL"] and config["LOG_LEVEL"] and config["BROKERAGE_TIMEZONE"]
        if svc == "summary":
            assert config["BROKERAGE_TIMEZONE"] and "SUMMARY_TIMEZONE" not in config, "one zone for every service"
            assert config["SUMMARY_ENSURE_TOPICS"] == "false", "topics belong to the Strimzi Topic Operator"
        if comp == "migrate":
            continue
        if svc == "tasks":  # faust writes into its data directory at start; only /tmp is writable
            assert config["TASKS_FAUST_DATADIR"].startswith("/tmp/"), wl["metadata"]["name"]
        assert config[f"{prefix}API_HOST"] == "0.0.0.0", "the servers must listen on the pod IP"
        if svc in ("customer", "tasks"):  # one phone-hash key: registrations carry the hash, captures match by it
            ref = env_vars["BROKERAGE_PHONE_HASH_KEY"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "brokerage-phone-hash-key", "key": "secret"}, wl["metadata"]["name"]
        if ACCESS_TOPIC in CONSUMES.get(svc, set()):  # rights from the access directory, not the token's claims
            assert config[f"{prefix}ACCESS_DIRECTORY"] == "enforce", wl["metadata"]["name"]
        assert config[f"{prefix}API_PORT"] == "8000" and config[f"{prefix}WORKER_HEALTH_PORT"] == "8001"
        assert config["KAFKA_BOOTSTRAP_SERVERS"] and config["KAFKA_SECURITY_PROTOCOL"].startswith("SASL_")
        for var in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"):
            assert env_vars[var]["valueFrom"]["secretKeyRef"]["name"] == f"{svc}-kafka-credentials"
        if comp == "api":
            assert config["AUTH_JWT_ALGORITHM"] == "RS256"
            assert config["AUTH_JWT_ISSUER"] and config["AUTH_JWT_AUDIENCE"]
            jwks = Path(config["AUTH_JWKS_FILE"])
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            volumes = {v["name"]: v for v in wl["spec"]["template"]["spec"]["volumes"]}
            assert "secret" in volumes[mounts[str(jwks.parent)]], "the JWKS comes from a mounted Secret"
            # one cursor key for every replica (RS256 leaves nothing to derive it from: the API refuses to start)
            ref = env_vars[f"{prefix}CURSOR_SECRET"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": f"{svc}-cursor-secret", "key": "secret"}, wl["metadata"]["name"]



@pytest.mark.parametrize("env", OVERLAYS)
def test_customer_imports_share_one_volume(rendered, env):
    """The customer API writes an uploaded import file to CUSTOMER_IMPORT_DIR and the worker reads it there, in
    other pods: both mount the same ReadWriteMany claim at exactly that directory, writable, and no other
    workload mounts it. The storage class is the overlay's choice (none in the base)."""
    docs = rendered[env]
    configmaps = by_name(docs, "ConfigMap")
    claims = by_name(docs, "PersistentVolumeClaim")
    assert set(claims) == {"customer-imports"}, "the only claim is the customer imports' volume"
    claim = claims["customer-imports"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "API and worker pods run on different nodes"
    assert claim["spec"]["resources"]["requests"]["storage"]
    mounted: dict[str, str] = {}
    for wl in all_workloads(docs):
        pod = wl["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod["containers"]:
            config: dict[str, str] = {}
            for src in c.get("envFrom", []):
                config.update(configmaps[src["configMapRef"]["name"]]["data"])
            for m in c.get("volumeMounts", []):
                pvc = volumes[m["name"]].get("persistentVolumeClaim")
                if pvc is None:
                    continue
                assert pvc["claimName"] == "customer-imports" and not pvc.get("readOnly"), wl["metadata"]["name"]
                assert not m.get("readOnly") and not m.get("subPath"), wl["metadata"]["name"]
                assert m["mountPath"] == config.get("CUSTOMER_IMPORT_DIR"), \
                    f"{wl['metadata']['name']} mounts the imports at {m['mountPath']}, not at CUSTOMER_IMPORT_DIR"
                mounted[wl["metadata"]["name"]] = m["mountPath"]
            # the root filesystem stays read-only: the directory is writable because it is the volume
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert set(mounted) == {"customer-api", "customer-worker"}, mounted
    assert len(set(mounted.values())) == 1 and next(iter(mounted.values())).startswith("/")

@pytest.mark.parametrize("env", OVERLAYS)
def test_no_secret_values_in_manifests(rendered, env):
    docs = rendered[env]
    assert not of_kind(docs, "Secret"), "Secrets are created out of band, never rendered"
    secretish = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL", re.I)
    for cm in of_kind(docs, "ConfigMap"):
        leaked = [k for k in cm.get("data", {}) if secretish.search(k)]
        assert not leaked, f"ConfigMap {cm['metadata']['name']}: {leaked}"
    for wl in all_workloads(docs):
        for c in wl["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                if secretish.search(e["name"]) or e["name"].endswith("_URL"):
                    assert "value" not in e, f"{wl['metadata']['name']}: {e['name']} has a literal value"
    # The development sign-in and its HS256 tokens (devtools.devsignin, AUTH_DEV_JWT_SECRET) never reach a cluster:
    # there the only tokens are the identity provider's, verified through its keys.
    dev_only = {"AUTH_DEV_JWT_SECRET", "AUTH_DEV_JWT_ISSUER", "WHALE_DEV_SIGNIN", "AUTH_JWT_SECRET"}
    for cm in of_kind(docs, "ConfigMap"):
        assert not dev_only & set(cm.get("data", {})), f"ConfigMap {cm['metadata']['name']}"
    for wl in all_workloads(docs):
        for c in wl["spec"]["template"]["spec"]["containers"]:
            assert not dev_only & {e["name"] for e in c.get("env", [])}, wl["metadata"]["name"]


@pytest.mark.parametrize("env", OVERLAYS)
def test_service_accounts_do_not_automount_tokens(rendered, env):
    accounts = of_kind(rendered[env], "ServiceAccount")
    assert {a["metadata"]["name"] for a in accounts} == set(SERVICES) | {"ops", "web"}
    for sa in accounts:
        assert sa.get("automountServiceAccountToken") is False, sa["metadata"]["name"]


# --------------------------------------------------------------------------------------------------
# Scaling and availability


@pytest.mark.parametrize("env", OVERLAYS)
def test_every_api_has_service_hpa_and_pdb(rendered, env):
    docs = rendered[env]
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")}
    for dep in of_kind(docs, "Deployment"):
        svc, comp = component(dep)
        if svc not in SERVICES:
            continue
        labels = dep["spec"]["template"]["metadata"]["labels"]
        pdbs = [p for p in of_kind(docs, "PodDisruptionBudget") if matches(p["spec"]["selector"], labels)]
        assert len(pdbs) == 1, f"{dep['metadata']['name']}: {len(pdbs)} PodDisruptionBudgets"
        if comp != "api":
            continue
        assert "replicas" not in dep["spec"], "the HPA owns the replica count"
        hpa = hpas[dep["metadata"]["name"]]
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        services = [
            s
            for s in of_kind(docs, "Service")
            if s["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
        ]
        assert len(services) == 1, dep["metadata"]["name"]
        assert {p["name"] for p in services[0]["spec"]["ports"]} == {"http", "metrics"}
    assert {s["metadata"]["name"] for s in of_kind(docs, "Service")} == {f"{s}-api" for s in SERVICES} | {"web"}
    web = by_name(docs, "Deployment")["web"]
    assert "replicas" not in web["spec"] and hpas["web"]["spec"]["minReplicas"] >= 1
    assert [p for p in of_kind(docs, "PodDisruptionBudget")
            if matches(p["spec"]["selector"], web["spec"]["template"]["metadata"]["labels"])]


def customer_group(topic: str) -> str:
    """The customer service's consumer group that reads `topic` (services/customer/container.py)."""
    from services.customer.container import (
        ACTIVITY_GROUP,
        ACTIVITY_TOPICS,
        ASSIGNMENT_GROUP,
        UPSTREAM_GROUP,
        WEALTH_GROUP,
    )

    if topic == "crm.assignment.events":
        return ASSIGNMENT_GROUP
    if topic == "brokerage.wealth":
        return WEALTH_GROUP
    return ACTIVITY_GROUP if topic in ACTIVITY_TOPICS else UPSTREAM_GROUP


@pytest.mark.parametrize("env", OVERLAYS)
def test_every_worker_scales_on_its_consumer_lag(rendered, env):
    docs = rendered[env]
    objects = {o["spec"]["scaleTargetRef"]["name"]: o for o in of_kind(docs, "ScaledObject")}
    auths = by_name(docs, "TriggerAuthentication")
    partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(docs, "KafkaTopic")}
    shared = by_name(docs, "ConfigMap")
    bootstrap = next(
        cm["data"]["KAFKA_BOOTSTRAP_SERVERS"]
        for name, cm in shared.items()
        if name.startswith("whale-shared-config")
    )
    workers = [d for d in of_kind(docs, "Deployment") if component(d)[1] == "worker"]
    assert len(workers) == len(SERVICES)
    for dep in workers:
        svc, _ = component(dep)
        # nothing to scale on (no topic, or one partition): a fixed size, the leader and a standby
        if not scales_on(svc) or max(partitions[t] for t in scales_on(svc)) == 1:
            assert dep["metadata"]["name"] not in objects and 1 <= dep["spec"]["replicas"] <= 2
            continue
        assert "replicas" not in dep["spec"], "KEDA owns the replica count"
        so = objects[dep["metadata"]["name"]]
        spec = so["spec"]
        assert spec["minReplicaCount"] >= 1, "the outbox relay and projections must always run"
        assert spec["maxReplicaCount"] <= max(partitions[t] for t in scales_on(svc)), "idle consumers"
        triggers = spec["triggers"]
        assert {t["metadata"]["topic"] for t in triggers} == scales_on(svc)
        assert len(triggers) == len(scales_on(svc))
        for trig in triggers:
            meta = trig["metadata"]
            assert trig["type"] == "kafka"
            group = meta["consumerGroup"]  # whale-<service>, or whale-<service>-<suffix> for a second consumer
            assert group == f"whale-{svc}" or group.startswith(f"whale-{svc}-"), group
            if svc == "customer":  # the lag of the consumer that reads the topic, not of another group's
                assert group == customer_group(meta["topic"]), (meta["topic"], group)
            assert meta["bootstrapServers"] == bootstrap
            assert meta["offsetResetPolicy"] == "earliest", "as the consumers (auto_offset_reset)"
            auth = auths[trig["authenticationRef"]["name"]]
            assert {r["name"] for r in auth["spec"]["secretTargetRef"]} == {f"{svc}-kafka-credentials", KAFKA_CA}
            assert meta["tls"] == "enable" and meta["sasl"] == "scram_sha512"
            assert {"parameter": "ca", "name": KAFKA_CA, "key": "ca.crt"} in auth["spec"]["secretTargetRef"]


@pytest.mark.parametrize("env", OVERLAYS)
def test_in_cluster_kafka_uses_tls(rendered, env):
    """SASL_SSL to the Strimzi TLS listener, the broker verified against the mounted cluster CA, in every
    pod that talks to Kafka (the services' API and worker, the operator toolbox); no plaintext port open."""
    docs = rendered[env]
    (shared,) = [cm["data"] for name, cm in by_name(docs, "ConfigMap").items()
                 if name.startswith("whale-shared-config")]
    assert shared["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and shared["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert all(s.endswith(":9093") for s in shared["KAFKA_BOOTSTRAP_SERVERS"].split(","))
    cafile = Path(shared["KAFKA_SSL_CAFILE"])
    talking = [w for w in all_workloads(docs)
               if any(e["name"] == "KAFKA_SASL_USERNAME" for c in w["spec"]["template"]["spec"]["containers"]
                      for e in c.get("env", []))]
    assert len(talking) >= 2 * len(SERVICES) + 1  # api + worker per service, and the toolbox
    for wl in talking:
        pod = wl["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        mount = next(m for m in c["volumeMounts"] if m["mountPath"] == str(cafile.parent))
        assert mount.get("readOnly") is True
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        assert volume["secret"]["secretName"] == KAFKA_CA
        assert {"key": "ca.crt", "path": cafile.name} in volume["secret"]["items"], wl["metadata"]["name"]
    for policy in of_kind(docs, "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            if any(p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                   == KAFKA_NAMESPACE for p in rule.get("to", [])):
                assert {p["port"] for p in rule["ports"]} == {9093}, policy["metadata"]["name"]


# --------------------------------------------------------------------------------------------------
# Data: databases and topics


@pytest.mark.parametrize("env", OVERLAYS)
def test_one_database_cluster_per_service_never_shared(rendered, env):
    docs = rendered[env]
    clusters = by_name(docs, "Cluster")
    users_of: dict[str, set[str]] = defaultdict(set)
    for wl in workloads(docs):
        svc, _ = component(wl)
        for c in wl["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"].endswith("-app"):
                    cluster = ref["name"].removesuffix("-app")
                    assert cluster in clusters, f"{wl['metadata']['name']} uses unknown cluster {cluster}"
                    users_of[cluster].add(svc)
    assert set(users_of) == set(clusters), "every Cluster is used, every used Cluster exists"
    shared = {c: s for c, s in users_of.items() if len(s) != 1}
    assert not shared, f"databases shared between services: {shared}"
    assert sorted(next(iter(s)) for s in users_of.values()) == sorted(SERVICES)
    databases = [c["spec"]["bootstrap"]["initdb"]["database"] for c in clusters.values()]
    assert len(set(databases)) == len(SERVICES)
    for cluster in clusters.values():
        assert cluster["spec"]["instances"] == DB_INSTANCES[env], cluster["metadata"]["name"]


@pytest.mark.parametrize("env", OVERLAYS)
def test_database_connection_budget(rendered, env):
    docs = rendered[env]
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
        for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    kedas = {
        o["spec"]["scaleTargetRef"]["name"]: o["spec"]["maxReplicaCount"]
        for o in of_kind(docs, "ScaledObject")
    } | {d["metadata"]["name"]: d["spec"]["replicas"] for d in of_kind(docs, "Deployment") if "replicas" in d["spec"]}
    for name, cluster in by_name(docs, "Cluster").items():
        svc = name.removesuffix("-db")
        api, workers = hpas[f"{svc}-api"], kedas[f"{svc}-worker"]
        per_api = API_CONNECTIONS.get(svc, CONNECTIONS_PER_POD)
        needed = api * per_api + (workers + 1) * CONNECTIONS_PER_POD + CONNECTIONS_RESERVED
        limit = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
        assert needed <= limit, (
            f"{name}: {api} API pods x {per_api} + {workers + 1} worker and migrate pods x {CONNECTIONS_PER_POD} "
            f"connections (+{CONNECTIONS_RESERVED}) exceed max_connections {limit}"
        )


@pytest.mark.parametrize("env", OVERLAYS)
def test_every_topic_has_a_kafka_topic(rendered, env):
    topics = {t["spec"]["topicName"]: t for t in of_kind(rendered[env], "KafkaTopic")}
    assert set(topics) == set(ALL_TOPICS), "KafkaTopics must match shared/events/topics.py ALL_TOPICS"
    longest_platform = max(int(topics[n]["spec"]["config"]["retention.ms"]) for n in PLATFORM_TOPICS)
    for name, topic in topics.items():
        spec, config = topic["spec"], topic["spec"]["config"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "whale-kafka"
        assert config["cleanup.policy"] == "delete", f"{name}: event streams are never compacted"
        assert 1 <= int(config["min.insync.replicas"]) <= spec["replicas"]
        if env == "prod":
            assert spec["replicas"] >= 3 and int(config["min.insync.replicas"]) == spec["replicas"] - 1, name
            # one retention policy for the manifests and the local topic creation (ensure_topics)
            assert int(config["retention.ms"]) == retention_ms(name), f"{name}: not shared.events.topics' policy"
        if name in DEAD_LETTER_TOPICS:
            assert int(config["retention.ms"]) > longest_platform, f"{name}: dead letters outlive their sources"
        elif name in CRM_TOPICS:
            # the summary's read models are rebuilt by replaying these from offset 0 (services/summary/rebuild.py)
            assert int(config["retention.ms"]) == -1, f"{name}: a finite retention truncates every rebuild"
        else:  # the platform's: bounded (personal data); the User CRM rebuilds from its own intake journal
            assert int(config["retention.ms"]) > 0, name


@pytest.mark.parametrize("env", OVERLAYS)
def test_kafka_users_have_least_privilege(rendered, env):
    users = by_name(rendered[env], "KafkaUser")
    assert set(users) == {f"whale-{s}" for s in SERVICES} | {"whale-ops"}
    for svc in SERVICES:
        acls = users[f"whale-{svc}"]["spec"]["authorization"]["acls"]
        reads = {
            a["resource"]["name"]
            for a in acls
            if a["resource"]["type"] == "topic" and "Read" in a["operations"]
        }
        writes = {
            a["resource"]["name"]
            for a in acls
            if a["resource"]["type"] == "topic" and "Write" in a["operations"]
        }
        groups = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "group"}
        # its relay reads back the last committed records of the topics it writes (shared.runtime.outbox_tail)
        own = relay_topics(svc) if has_relay(svc) else set()
        assert reads == CONSUMES[svc] | {f"crm.{svc}.dlq"} | own | READS_ALSO.get(svc, set())
        events = {f"crm.{svc}.events"} & set(CRM_TOPICS)  # the audit store publishes no events of its own
        assert writes == events | {f"crm.{svc}.dlq", AUDIT_RECORDS} | EXTRA_WRITES.get(svc, set())
        assert groups == {f"whale-{svc}"}
        # Topics are named one by one; groups by prefix (a service may run whale-<service>-<suffix>).
        for a in acls:
            expected = "prefix" if a["resource"]["type"] == "group" else "literal"
            assert a["resource"].get("patternType", "literal") == expected, a
    ops = users["whale-ops"]["spec"]["authorization"]["acls"]
    assert not any("Read" in a["operations"] for a in ops if a["resource"]["type"] == "group"), (
        "the operator CLI never joins a consumer group"
    )
    ops_reads = {
        a["resource"]["name"] for a in ops if a["resource"]["type"] == "topic" and "Read" in a["operations"]
    }
    assert ops_reads == set(DEAD_LETTER_TOPICS)


def relay_topics(service: str) -> set[str]:
    """Topics a service's outbox relay writes: those of the CRM contracts it owns (`crm.<service>.*`), which
    only its relay publishes (read from the contract registry). The audit records are every API's and the audit
    chain's anchors the audit worker's, not a relay's."""
    return {c.topic for c in registry.contracts() if c.event_type.startswith(f"crm.{service}.")
            and c.topic not in (AUDIT_RECORDS, AUDIT_ANCHORS)}


def has_relay(service: str) -> bool:
    return importlib.util.find_spec(f"services.{service}.outbox") is not None


@pytest.mark.parametrize("env", OVERLAYS)
def test_each_relay_may_publish_in_its_transactions(rendered, env, monkeypatch):
    """The outbox relays publish in Kafka transactions under a transactional id per service
    (`shared.runtime.outbox.transactional_id`, with the deployed KAFKA_* settings): the service's KafkaUser
    must allow Write + Describe on exactly that id and Write on every topic its relay publishes to."""
    docs = rendered[env]
    (shared,) = [cm["data"] for name, cm in by_name(docs, "ConfigMap").items()
                 if name.startswith("whale-shared-config")]
    for key in ("KAFKA_CLIENT_ID_PREFIX", "KAFKA_TOPIC_PREFIX"):
        monkeypatch.delenv(key, raising=False)
    for key, value in shared.items():
        if key.startswith("KAFKA_"):
            monkeypatch.setenv(key, value)
    kafka = KafkaSettings()
    users = by_name(docs, "KafkaUser")
    relays = [s for s in SERVICES if has_relay(s)]
    assert set(relays) == {s for s in SERVICES if relay_topics(s)}, "a relay without contracts, or contracts without one"
    assert len(relays) >= 5
    for svc in SERVICES:
        acls = users[f"whale-{svc}"]["spec"]["authorization"]["acls"]
        txn = {a["resource"]["name"]: set(a["operations"]) for a in acls if a["resource"]["type"] == "transactionalId"}
        writes = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic" and "Write" in a["operations"]}
        if svc not in relays:
            assert txn == {}, f"whale-{svc} has no relay, so no transactional id"
            continue
        assert txn == {transactional_id(kafka, svc): {"Write", "Describe"}}, f"whale-{svc}: {txn}"
        assert {kafka.topic(t) for t in relay_topics(svc)} <= writes, f"whale-{svc} cannot write its relay's topics"
        reads = {a["resource"]["name"]: set(a["operations"]) for a in acls if a["resource"]["type"] == "topic"}
        for topic in relay_topics(svc):  # the relay's resume reads them back, without a consumer group
            assert {"Read", "Describe"} <= reads[kafka.topic(topic)], f"whale-{svc} cannot read back {topic}"
        assert not [a for a in acls if a["resource"]["type"] == "transactionalId"
                    and a["resource"].get("patternType", "literal") != "literal"], "one id, named exactly"


# --------------------------------------------------------------------------------------------------
# Network policies (matchLabels-only evaluation, same namespace unless a namespaceSelector is given)


def _policies_for(docs, labels, direction):
    return [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if direction in p["spec"]["policyTypes"] and matches(p["spec"]["podSelector"], labels)
    ]


def _peers(policies, direction):
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    out = []
    for p in policies:
        for rule in p["spec"].get(key, []):
            ports = tuple(sorted(x["port"] for x in rule.get("ports", [])))
            for peer in rule.get(peers_key, [None]):
                out.append((p["metadata"]["name"], peer, ports))
    return out


@pytest.mark.parametrize("env", OVERLAYS)
def test_network_policies(rendered, env):
    docs = rendered[env]
    policies = by_name(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    dns = policies["allow-dns"]["spec"]
    assert dns["podSelector"] == {} and {p["port"] for p in dns["egress"][0]["ports"]} == {53}

    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    kafka = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": KAFKA_NAMESPACE}},
        "podSelector": {"matchLabels": {"strimzi.io/cluster": "whale-kafka", "strimzi.io/kind": "Kafka"}},
    }
    for wl in all_workloads(docs):
        svc, comp = component(wl)
        labels = wl["spec"]["template"]["metadata"]["labels"]
        ingress = _peers(_policies_for(docs, labels, "Ingress"), "Ingress")
        if svc == "web":  # the console's gateway: from the ingress controller, to the APIs, nothing else
            assert labels.get("whale-crm.io/role") == GATEWAY_LABELS["whale-crm.io/role"]
            assert {(peer == INGRESS_CONTROLLER and ports == (WEB_PORT,)) or peer == prometheus
                    for _, peer, ports in ingress} == {True}, ingress
            egress = _peers(_policies_for(docs, labels, "Egress"), "Egress")
            apis = {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "api",
                                                    "app.kubernetes.io/part-of": "whale-crm"}}}
            dns_peer = policies["allow-dns"]["spec"]["egress"][0]["to"][0]
            assert {(peer == apis and ports == (PORTS["api"],)) or peer == dns_peer
                    for _, peer, ports in egress} == {True}, egress
            continue
        for name, peer, ports in ingress:
            assert peer is not None, f"{name} allows ingress from anywhere to {svc}-{comp}"
            if peer == prometheus:
                continue
            assert comp == "api" and peer == {"podSelector": {"matchLabels": GATEWAY_LABELS}}, (
                f"{name}: {svc}-{comp} reachable from {peer}"
            )
            assert ports == (PORTS["api"],)
        if comp == "api":
            assert any(peer == {"podSelector": {"matchLabels": GATEWAY_LABELS}} for _, peer, _ in ingress)
        egress = _peers(_policies_for(docs, labels, "Egress"), "Egress")
        own_db = {"podSelector": {"matchLabels": {"cnpg.io/cluster": f"{svc}-db"}}}
        dns_peer = policies["allow-dns"]["spec"]["egress"][0]["to"][0]
        allowed = [own_db, kafka, dns_peer] if svc in SERVICES else [kafka, dns_peer]
        for name, peer, _ in egress:
            assert peer in allowed, f"{name}: {svc}-{comp} may reach {peer}"
        assert any(peer == kafka for _, peer, _ in egress), f"{svc}-{comp} cannot reach Kafka"
        if svc in SERVICES:
            assert any(peer == own_db for _, peer, _ in egress), f"{svc}-{comp} cannot reach its database"


# --------------------------------------------------------------------------------------------------
# The web console's gateway


@pytest.mark.parametrize("env", OVERLAYS)
def test_web_gateway_routes_every_api_and_serves_the_console(rendered, env):
    """One origin: the Ingress sends everything to the web gateway, whose nginx.conf (the make-run
    template, devtools.gateway) routes /api/<service>/ to each service's API Service and passes request ids."""
    from devtools.gateway import k8s_config, render

    docs = rendered[env]
    (ing,) = of_kind(docs, "Ingress")
    paths = [p for rule in ing["spec"]["rules"] for p in rule["http"]["paths"]]
    assert [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in paths] == [("/", "Prefix", "web")]
    assert ing["spec"]["rules"][0]["host"] in ing["spec"]["tls"][0]["hosts"]
    web_svc = by_name(docs, "Service")["web"]
    assert {p["name"]: p["port"] for p in web_svc["spec"]["ports"]} == {"http": 80}
    nginx = next(cm for name, cm in by_name(docs, "ConfigMap").items() if name.startswith("web-nginx"))
    conf = nginx["data"]["nginx.conf"]
    assert conf == render(k8s_config()), "regenerate: python -m devtools.gateway --k8s"
    services = by_name(docs, "Service")
    for svc in SERVICES:
        upstream = re.search(rf"upstream {svc}_api {{ server ([\w.-]+):(\d+);", conf)
        assert upstream, f"no upstream for {svc}"
        target = services[upstream.group(1)]
        assert {p["name"]: p["port"] for p in target["spec"]["ports"]}["http"] == int(upstream.group(2))
        assert f"location /api/{svc}/ {{" in conf and f"proxy_pass http://{svc}_api/;" in conf
    assert "proxy_set_header X-Request-ID $whale_request_id;" in conf
    assert "dev-signin" not in conf, "the development sign-in is never routed in a cluster"
    (container,) = by_name(docs, "Deployment")["web"]["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["-c", "/etc/whale/nginx/nginx.conf"]
    assert {p["containerPort"] for p in container["ports"]} == {WEB_PORT} and f"listen {WEB_PORT};" in conf
    config = next(cm for name, cm in by_name(docs, "ConfigMap").items() if name.startswith("web-console-config"))
    console = json.loads(config["data"]["config.json"])
    assert console["devSignIn"] is False and console["oidc"]["issuer"].startswith("https://")
