"""The Kubernetes manifests (deploy/kubernetes), rendered and checked offline.

Each overlay is rendered with `kubectl kustomize`, validated against the Kubernetes API schemas
(kubernetes-validate), and held to the policy below: probes, limits, a non-root numeric user,
a read-only root filesystem, no capabilities, no Secret in production, a PodDisruptionBudget
per Deployment, NetworkPolicies that let through exactly the traffic the services need, pinned
images, and environment variables the services' Settings really read. The custom resources
(KafkaTopic, PodMonitor, PrometheusRule) have no schema there: their fields are checked here,
and the alert rules with `promtool check rules`.

Each policy check returns what it finds wrong; the tests at the end break the rendered
manifests on purpose and expect the check to notice.
"""

from __future__ import annotations

import base64
import copy
import functools
import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings

from notification.settings import Settings as NotificationSettings
from registration.settings import Settings as RegistrationSettings
from reporting.settings import Settings as ReportingSettings
from tilmeld_shared.events import ALL_TOPICS, DLQ_TOPICS

ROOT = Path(__file__).parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "production")
# The oldest Kubernetes still commonly run, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
CUSTOM_RESOURCES = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
SETTINGS: dict[str, type[BaseSettings]] = {
    "registration": RegistrationSettings,
    "notification": NotificationSettings,
    "reporting": ReportingSettings,
}
# Read by `python -m tilmeld_shared.roles` (os.environ), which the migration Job runs first.
ROLES_VARIABLES = {"POSTGRES_ADMIN_URL"} | {
    f"{service.upper()}_{role}_PASSWORD" for service in SETTINGS for role in ("OWNER", "APP")
}
INGRESS_NAMESPACE = {"kubernetes.io/metadata.name": "ingress-nginx"}
MONITORING_NAMESPACE = {"kubernetes.io/metadata.name": "monitoring"}
KUBE_DNS = ({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"})
OUTSIDE = None  # a peer outside the cluster (Postgres, Kafka, SMTP may be)
TMP = "/tmp"  # noqa: S108 (the path a read-only container needs a writable volume at)

Object = dict[str, Any]


# Rendering ---------------------------------------------------------------------------------


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is not installed: the manifests are rendered with `kubectl kustomize` "
            "(kubectl 1.27 or newer, which embeds kustomize 5). Install it from "
            "the Kubernetes apt repository or the Google Cloud SDK (package `kubectl`); "
            "Debian 12's `kubernetes-client` is 1.20, too old."
        )
    return found


@functools.cache
def rendered(overlay: str) -> tuple[Object, ...]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize overlays/{overlay}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def objects(overlay: str) -> list[Object]:
    return copy.deepcopy(list(rendered(overlay)))


def production() -> list[Object]:
    return copy.deepcopy(list(rendered("production")))


def of_kind(objects: list[Object], kind: str) -> list[Object]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Object], kind: str, name: str) -> Object:
    (found,) = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    return found


def workloads(objects: list[Object]) -> Iterator[tuple[Object, Object]]:
    """Each Deployment and Job with its pod template."""
    for o in objects:
        if o["kind"] in ("Deployment", "Job"):
            yield o, o["spec"]["template"]


def containers(objects: list[Object]) -> Iterator[tuple[Object, Object, Object]]:
    for workload, template in workloads(objects):
        for container in template["spec"].get("initContainers", []) + template["spec"].get(
            "containers", []
        ):
            yield workload, template, container


def where(workload: Object, container: Object | None = None) -> str:
    name = f"{workload['kind']} {workload['metadata']['name']}"
    return f"{name}, container {container['name']}" if container else name


def selects(selector: Object, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels, matchExpressions) against a set of labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


# Schemas -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(
    objects: list[Object], version: str
) -> None:
    problems = []
    for o in objects:
        if (o["apiVersion"], o["kind"]) in CUSTOM_RESOURCES:
            continue  # no schema there; checked field by field below
        try:
            kubernetes_validate.validate(o, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{o['kind']} {o['metadata']['name']}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{o['kind']} {o['apiVersion']}: not a Kubernetes {version} kind")
    assert not problems


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = named(production(), "Deployment", "registration")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


# Pods --------------------------------------------------------------------------------------


def pod_security_problems(objects: list[Object]) -> list[str]:
    problems = []
    for workload, template, container in containers(objects):
        pod = template["spec"]
        pod_context = pod.get("securityContext", {})
        context = {**pod_context, **container.get("securityContext", {})}
        at = where(workload, container)
        if context.get("runAsNonRoot") is not True:
            problems.append(f"{at}: runAsNonRoot is not true")
        for field in ("runAsUser", "runAsGroup"):
            if not isinstance(context.get(field), int) or context[field] == 0:
                problems.append(f"{at}: {field} is not a numeric non-root id")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{at}: the root filesystem is writable")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{at}: allowPrivilegeEscalation is not false")
        if context.get("privileged"):
            problems.append(f"{at}: privileged")
        if "ALL" not in context.get("capabilities", {}).get("drop", []):
            problems.append(f"{at}: capabilities do not drop ALL")
        if context.get("capabilities", {}).get("add"):
            problems.append(f"{at}: adds capabilities")
        if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{at}: seccompProfile is not RuntimeDefault")
        # A read-only root needs somewhere to write temporary files.
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == TMP]
        if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
            problems.append(f"{at}: no emptyDir at {TMP}")
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(field):
                problems.append(f"{where(workload)}: {field}")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where(workload)}: mounts a service account token it never uses")
        # A Service named like a service (`reporting`) injects REPORTING_PORT=tcp://…, which
        # is that service's own port setting.
        if pod.get("enableServiceLinks") is not False:
            problems.append(f"{where(workload)}: enableServiceLinks is not false")
    return problems


def resource_problems(objects: list[Object]) -> list[str]:
    problems = []
    for workload, _, container in containers(objects):
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in resources.get(kind, {}):
                    problems.append(f"{where(workload, container)}: no {resource} {kind[:-1]}")
    return problems


def probe_problems(objects: list[Object]) -> list[str]:
    """Every long-running container has all three probes, on a port it declares; a container
    with an HTTP port is probed on the health endpoints. A Job's container runs to completion
    and has none."""
    problems = []
    for workload, _, container in containers(objects):
        if workload["kind"] != "Deployment":
            continue
        ports = {p.get("name") for p in container.get("ports", [])} | {
            p["containerPort"] for p in container.get("ports", [])
        }
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            spec = container.get(probe)
            if spec is None:
                problems.append(f"{where(workload, container)}: no {probe}")
                continue
            http = spec.get("httpGet")
            if http is None:
                problems.append(f"{where(workload, container)}: {probe} is not an HTTP check")
            elif http["port"] not in ports:
                problems.append(f"{where(workload, container)}: {probe} on an undeclared port")
        if "http" in ports:
            expected = {"livenessProbe": "/health/live", "readinessProbe": "/health/ready"}
            for probe, path in expected.items():
                if container.get(probe, {}).get("httpGet", {}).get("path") != path:
                    problems.append(f"{where(workload, container)}: {probe} is not on {path}")
    return problems


def test_every_container_runs_unprivileged_as_a_numeric_user_on_a_read_only_root(
    objects: list[Object],
) -> None:
    assert not pod_security_problems(objects)


def test_every_container_has_requests_and_limits(objects: list[Object]) -> None:
    assert not resource_problems(objects)


def test_every_long_running_container_has_startup_liveness_and_readiness_probes(
    objects: list[Object],
) -> None:
    assert not probe_problems(objects)


def test_the_user_is_the_one_the_image_creates() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    uid = int(re.search(r"useradd .*--uid (\d+)", dockerfile).group(1))  # type: ignore[union-attr]

    users = {t["spec"]["securityContext"]["runAsUser"] for _, t in workloads(production())}

    assert users == {uid}


# Availability and scaling ------------------------------------------------------------------


def disruption_problems(objects: list[Object]) -> list[str]:
    budgets = of_kind(objects, "PodDisruptionBudget")
    problems = []
    for deployment in of_kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if selects(b["spec"]["selector"], labels)]
        if not matching:
            problems.append(f"{where(deployment)} has no PodDisruptionBudget")
        for budget in matching:
            if budget["spec"].get("maxUnavailable") == 0 or "minAvailable" in budget["spec"]:
                # minAvailable 1 on one replica, or maxUnavailable 0, blocks every node drain.
                problems.append(f"PodDisruptionBudget {budget['metadata']['name']} blocks drains")
    return problems


def test_every_deployment_has_a_disruption_budget_that_lets_a_node_drain(
    objects: list[Object],
) -> None:
    assert not disruption_problems(objects)


def common_config(objects: list[Object]) -> dict[str, str]:
    return dict(named(objects, "ConfigMap", "tilmeld-common")["data"])


def test_consumers_scale_to_at_most_one_replica_per_partition(objects: list[Object]) -> None:
    partitions = int(common_config(objects)["KAFKA_TOPIC_PARTITIONS"])
    autoscalers = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objects, "HorizontalPodAutoscaler")
    }

    assert {"notification", "reporting"} <= autoscalers.keys()
    for consumer in ("notification", "reporting"):
        assert autoscalers[consumer]["spec"]["maxReplicas"] <= partitions
    # The API scales on CPU.
    (metric,) = autoscalers["registration"]["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # One relay leads at a time; more would be standbys, so it is not autoscaled.
    assert "registration-relay" not in autoscalers
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        # Where an autoscaler owns the count, a fixed `replicas` would fight it on every apply.
        assert ("replicas" in deployment["spec"]) == (name not in autoscalers), name


def test_production_keeps_two_of_every_process_and_the_api_without_a_relay() -> None:
    objects = production()
    autoscalers = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objects, "HorizontalPodAutoscaler")
    }

    assert all(h["spec"]["minReplicas"] >= 2 for h in autoscalers.values())
    assert named(objects, "Deployment", "registration-relay")["spec"]["replicas"] == 2
    api = named(objects, "Deployment", "registration")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in api["containers"][0]["env"]}
    assert env["RUN_RELAY"] == "false"
    relay = named(objects, "Deployment", "registration-relay")["spec"]["template"]["spec"]
    assert relay["containers"][0]["args"] == ["registration", "relay"]


# Images and secrets ------------------------------------------------------------------------


def image_problems(objects: list[Object]) -> list[str]:
    problems = []
    for workload, _, container in containers(objects):
        image = container["image"]
        name, _, tag = image.rpartition(":") if "@" not in image else (image, "", "digest")
        if not name or "/" in tag or tag in ("", "latest"):
            problems.append(f"{where(workload, container)}: {image} is not pinned")
        if container.get("imagePullPolicy") == "Always":
            problems.append(f"{where(workload, container)}: imagePullPolicy Always")
    return problems


def secret_problems(objects: list[Object]) -> list[str]:
    return [
        f"Secret {s['metadata']['name']} is in the manifests"
        for s in of_kind(objects, "Secret")
        if s.get("data") or s.get("stringData")
    ]


def test_production_images_are_pinned() -> None:
    assert not image_problems(production())


def test_production_renders_no_secret() -> None:
    assert not secret_problems(production())
    assert not of_kind(production(), "Secret")


def secret_references(objects: list[Object]) -> set[tuple[str, str, bool]]:
    """(Secret, key, optional) for every secretKeyRef."""
    return {
        (ref["name"], ref["key"], bool(ref.get("optional")))
        for _, _, container in containers(objects)
        for env in container.get("env", [])
        if (ref := env.get("valueFrom", {}).get("secretKeyRef"))
    }


def test_secrets_are_referenced_by_key_never_inlined(objects: list[Object]) -> None:
    for workload, _, container in containers(objects):
        for env in container.get("env", []):
            assert "valueFrom" in env or not re.search(
                r"TOKEN|SECRET|KEY|PASSWORD|DATABASE_URL", env["name"]
            ), f"{where(workload, container)}: {env['name']} inlined"
        assert all("secretRef" not in source for source in container.get("envFrom", []))


def test_every_secret_a_workload_needs_is_in_the_example_and_in_dev() -> None:
    example = {
        doc["metadata"]["name"]: doc["stringData"].keys()
        for doc in yaml.safe_load_all((KUBERNETES / "base" / "secrets.example.yaml").read_text())
    }
    dev = {
        s["metadata"]["name"]: s["data"].keys() for s in of_kind(list(rendered("dev")), "Secret")
    }

    for name, key, optional in secret_references(production()):
        assert key in example.get(name, ()), f"secrets.example.yaml lacks {name}/{key}"
        assert optional or key in dev.get(name, ()), f"dev's secretGenerator lacks {name}/{key}"


def test_secrets_example_is_not_part_of_the_kustomization() -> None:
    base = yaml.safe_load((KUBERNETES / "base" / "kustomization.yaml").read_text())

    assert "secrets.example.yaml" not in base["resources"]


# Settings ----------------------------------------------------------------------------------


def accepted_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable a Settings class reads."""
    names = set()
    for field_name, field in settings.model_fields.items():
        names.add(field_name.upper())
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            names.add(alias.upper())
    return names


def environment(objects: list[Object], container: Object) -> dict[str, str]:
    """What the container's environment holds: literal values, ConfigMap values, and for a
    Secret a stand-in of the right shape."""
    config_maps = {c["metadata"]["name"]: c.get("data", {}) for c in of_kind(objects, "ConfigMap")}
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values.update(config_maps[source["configMapRef"]["name"]])
    for env in container.get("env", []):
        reference = env.get("valueFrom", {})
        if "value" in env:
            values[env["name"]] = env["value"]
        elif "configMapKeyRef" in reference:
            ref = reference["configMapKeyRef"]
            values[env["name"]] = config_maps[ref["name"]][ref["key"]]
        elif "secretKeyRef" in reference:
            values[env["name"]] = stand_in(reference["secretKeyRef"]["key"])
    return values


def stand_in(key: str) -> str:
    if key.endswith("url"):
        return "postgresql://someone:not-a-development-password@postgres.example:5432/tilmeld"
    if key == "personal-data-key":
        return base64.b64encode(bytes(range(32))).decode()
    return f"stand-in-for-{key}"


def service_of(container: Object) -> str:
    return str(container["args"][0])


def commands_of(service: str) -> set[str]:
    """The subcommands `python -m <service>` accepts."""
    module = importlib.import_module(f"{service}.__main__")
    if (commands := getattr(module, "COMMANDS", None)) is not None:
        return set(commands.all_commands())
    source = Path(module.__file__ or "").read_text()
    choices = re.search(r"choices=\[([^\]]*)\]", source)
    return set(re.findall(r'"(\w+)"', choices.group(1) if choices else ""))


def settings_problems(objects: list[Object]) -> list[str]:
    problems = []
    for workload, _, container in containers(objects):
        env = environment(objects, container)
        if workload["kind"] == "Job":  # the migration Job: roles, then each service's Settings
            known = ROLES_VARIABLES.union(*(accepted_names(s) for s in SETTINGS.values()))
        else:
            known = accepted_names(SETTINGS[service_of(container)])
        if unknown := sorted(set(env) - known):
            problems.append(f"{where(workload, container)}: no Settings reads {unknown}")
    return problems


def test_every_variable_set_is_one_a_service_reads(objects: list[Object]) -> None:
    assert not settings_problems(objects)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    every_name = set().union(*(accepted_names(s) for s in SETTINGS.values()))

    def use(env: dict[str, str]) -> None:
        for name in every_name:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return use


def test_each_process_starts_from_its_environment(
    objects: list[Object], clean_environment: Callable[[dict[str, str]], None]
) -> None:
    """The service's own Settings accept what the manifests give: every required setting,
    every production secret, values of the right type."""
    for workload, _, container in containers(objects):
        env = environment(objects, container)
        clean_environment(env)
        services = list(SETTINGS) if workload["kind"] == "Job" else [service_of(container)]
        for service in services:
            try:
                settings = SETTINGS[service]()
            except ValidationError as error:
                pytest.fail(f"{where(workload, container)}: {service} refuses it:\n{error}")
            if workload["kind"] == "Deployment":
                assert container["args"][1] in commands_of(service)
                ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
                assert ports.get("http", settings.port) == settings.port  # type: ignore[attr-defined]
                assert ports["metrics"] == settings.metrics_port  # type: ignore[attr-defined]


def test_the_api_runs_without_its_relay_and_the_relay_runs_alone(
    clean_environment: Callable[[dict[str, str]], None],
) -> None:
    objects = production()
    api = named(objects, "Deployment", "registration")["spec"]["template"]["spec"]
    clean_environment(environment(objects, api["containers"][0]))

    assert RegistrationSettings().run_relay is False  # type: ignore[attr-defined]
    assert "relay" in commands_of("registration")


def test_production_runs_in_production_mode_with_topics_as_the_kafka_topics_define_them() -> None:
    objects = production()
    config = common_config(objects)
    topics = of_kind(objects, "KafkaTopic")

    assert config["ENVIRONMENT"] == "production"
    assert {int(config["KAFKA_TOPIC_PARTITIONS"])} == {t["spec"]["partitions"] for t in topics}
    assert {int(config["KAFKA_REPLICATION_FACTOR"])} == {t["spec"]["replicas"] for t in topics}


# Network -----------------------------------------------------------------------------------


class Pod:
    def __init__(self, namespace: str, labels: dict[str, str], ports: dict[str, int]):
        self.namespace, self.labels, self.ports = namespace, labels, ports


def pods(objects: list[Object]) -> dict[str, Pod]:
    found = {}
    for workload, template in workloads(objects):
        ports = {
            p.get("name", str(p["containerPort"])): p["containerPort"]
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
        }
        namespace = workload["metadata"].get("namespace", "default")
        found[workload["metadata"]["name"]] = Pod(namespace, template["metadata"]["labels"], ports)
    return found


def peer_matches(
    peer: Object, ns: dict[str, str] | None, labels: dict[str, str] | None, own: str
) -> bool:
    """Does a NetworkPolicy peer (from/to entry) match this remote end?"""
    if "ipBlock" in peer:
        return ns is None
    if ns is None or labels is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], ns):
            return False
    elif ns.get("kubernetes.io/metadata.name") != own:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], labels)


def port_matches(rule_ports: list[Object] | None, port: int, names: dict[str, int]) -> bool:
    """A rule's ports against the destination port; a named port is looked up in `names`,
    the destination's container ports."""
    if not rule_ports:
        return True
    return any(
        entry.get("port") in (None, port) or names.get(str(entry["port"])) == port
        for entry in rule_ports
    )


def allowed(
    policies: list[Object],
    pod: Pod,
    direction: str,
    port: int,
    names: dict[str, int],
    remote: tuple[dict[str, str], dict[str, str]] | None,
) -> bool:
    """Whether the NetworkPolicies selecting `pod` let this connection through on its side:
    `pod` is the destination for ingress, the source for egress."""
    policy_type, peers = ("Ingress", "from") if direction == "ingress" else ("Egress", "to")
    remote_ns, remote_labels = remote if remote else (None, None)
    for policy in policies:
        spec = policy["spec"]
        if policy_type not in spec.get("policyTypes", ["Ingress"]):
            continue
        if not selects(spec["podSelector"], pod.labels):
            continue
        for rule in spec.get(direction, []):
            ends = rule.get(peers)
            if ends and not any(
                peer_matches(p, remote_ns, remote_labels, pod.namespace) for p in ends
            ):
                continue
            if port_matches(rule.get("ports"), port, names):
                return True
    return False


End = str | tuple[dict[str, str], dict[str, str]] | None


def connection(objects: list[Object], source: End, target: End, port: int) -> bool:
    """Both sides' policies: the source's egress and the target's ingress. A workload's name
    is one of its pods; a (namespace labels, pod labels) pair is a pod in another namespace,
    where these policies do not apply; OUTSIDE is an address outside the cluster."""
    policies = of_kind(objects, "NetworkPolicy")
    everyone = pods(objects)

    def seen_as(end: End) -> tuple[dict[str, str], dict[str, str]] | None:
        if isinstance(end, str):
            pod = everyone[end]
            return {"kubernetes.io/metadata.name": pod.namespace}, pod.labels
        return end

    names = everyone[target].ports if isinstance(target, str) else {}
    if isinstance(source, str) and not allowed(
        policies, everyone[source], "egress", port, names, seen_as(target)
    ):
        return False
    if isinstance(target, str):
        return allowed(policies, everyone[target], "ingress", port, names, seen_as(source))
    return True


def network_problems(objects: list[Object]) -> list[str]:
    policies = of_kind(objects, "NetworkPolicy")
    everyone = pods(objects)
    problems = []
    if not any(
        p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in policies
    ):
        problems.append("no default-deny NetworkPolicy")
    for name, pod in everyone.items():
        for direction in ("Ingress", "Egress"):
            if not any(
                direction in p["spec"]["policyTypes"]
                and selects(p["spec"]["podSelector"], pod.labels)
                for p in policies
            ):
                problems.append(f"{name}: no NetworkPolicy governs its {direction.lower()}")

    def expect(source: Any, target: Any, port: int, *, allow: bool) -> None:
        if connection(objects, source, target, port) != allow:
            verb = "blocked" if allow else "allowed"
            problems.append(f"{source} → {target}:{port} is {verb}")

    ingress_controller = (INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"})
    prometheus = (MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"})
    stranger = ({"kubernetes.io/metadata.name": "elsewhere"}, {"app": "stranger"})
    for name, pod in everyone.items():
        expect(name, KUBE_DNS, 53, allow=True)
        expect(name, OUTSIDE, 5432, allow=True)  # Postgres
        if name != "tilmeld-migrate":
            expect(name, OUTSIDE, 9092, allow=True)  # Kafka
        if "metrics" in pod.ports:
            expect(prometheus, name, pod.ports["metrics"], allow=True)
            expect(stranger, name, pod.ports["metrics"], allow=False)
        for port in pod.ports.values():
            expect(stranger, name, port, allow=False)
    # The public ports, through the ingress controller.
    expect(ingress_controller, "registration", 8001, allow=True)
    expect(ingress_controller, "reporting", 8003, allow=True)
    expect(ingress_controller, "notification", 8002, allow=False)
    # Between the services: notification opens personal data and reporting reads the event log
    # at registration; registration gathers a member's export from both.
    expect("notification", "registration", 8001, allow=True)
    expect("reporting", "registration", 8001, allow=True)
    expect("registration", "notification", 8002, allow=True)
    expect("registration", "reporting", 8003, allow=True)
    expect("reporting", "notification", 8002, allow=False)
    expect("notification", "reporting", 8003, allow=False)
    expect("registration-relay", "registration", 8001, allow=False)
    expect("notification", OUTSIDE, 587, allow=True)  # SMTP
    expect("reporting", OUTSIDE, 587, allow=False)
    return problems


def test_network_policies_deny_by_default_and_allow_exactly_the_traffic_needed(
    objects: list[Object],
) -> None:
    assert not network_problems(objects)


def test_services_and_ingress_point_at_ports_that_exist(objects: list[Object]) -> None:
    everyone = pods(objects)
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    for service in services.values():
        targets = [
            p
            for p in everyone.values()
            if selects({"matchLabels": service["spec"]["selector"]}, p.labels)
        ]
        assert targets, f"Service {service['metadata']['name']} selects no pod"
        for port in service["spec"]["ports"]:
            assert all(port["targetPort"] in p.ports for p in targets)
            assert port["targetPort"] != "metrics", "metrics would be reachable through the Service"
    for ingress in of_kind(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in ports


# Kafka topics (Strimzi) --------------------------------------------------------------------


def topic_problems(objects: list[Object]) -> list[str]:
    problems = []
    topics = of_kind(objects, "KafkaTopic")
    names = {t["spec"].get("topicName", t["metadata"]["name"]) for t in topics}
    if names != set(ALL_TOPICS) | set(DLQ_TOPICS):
        problems.append(f"KafkaTopics {sorted(names)} are not the services' topics")
    for topic in topics:
        spec, at = topic["spec"], f"KafkaTopic {topic['metadata']['name']}"
        config = spec.get("config", {})
        if "strimzi.io/cluster" not in topic["metadata"].get("labels", {}):
            problems.append(f"{at}: no strimzi.io/cluster label")
        if not isinstance(spec.get("partitions"), int) or spec["partitions"] < 1:
            problems.append(f"{at}: partitions")
        if spec.get("replicas") != 3 or config.get("min.insync.replicas") != 2:
            problems.append(f"{at}: not 3 replicas with min.insync.replicas 2")
        if not isinstance(config.get("retention.ms"), int):
            problems.append(f"{at}: no retention.ms")
        # Keyed by aggregate: compaction would keep only each meeting's newest event.
        if "compact" in str(config.get("cleanup.policy", "delete")):
            problems.append(f"{at}: an event stream must not be compacted")
    return problems


def test_kafka_topics_are_every_topic_the_services_use() -> None:
    assert not topic_problems(production())


# Monitoring (Prometheus Operator, Grafana) -------------------------------------------------


def test_the_pod_monitor_scrapes_every_metrics_port() -> None:
    objects = production()
    (monitor,) = of_kind(objects, "PodMonitor")
    endpoints = monitor["spec"]["podMetricsEndpoints"]

    assert [e["port"] for e in endpoints] == ["metrics"]
    assert all(e.get("path", "/metrics") == "/metrics" for e in endpoints)
    for name, pod in pods(objects).items():
        if name != "tilmeld-migrate":
            assert "metrics" in pod.ports, name
            assert selects(monitor["spec"]["selector"], pod.labels), name


def test_the_prometheus_rule_is_deploy_prometheus_alerts_yml() -> None:
    (rule,) = of_kind(production(), "PrometheusRule")
    alerts = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())

    assert rule["spec"] == alerts, "prometheusrule.yaml drifted from deploy/prometheus/alerts.yml"
    for group in rule["spec"]["groups"]:
        assert group["name"]
        for entry in group["rules"]:
            assert entry.get("alert") or entry.get("record")
            assert entry["expr"]


def promtool() -> str:
    found = shutil.which("promtool") or ROOT / ".cache" / "bin" / "promtool"
    if not Path(found).is_file():
        pytest.fail(
            "promtool is not installed: run `make promtool` (takes it from Debian's prometheus "
            "package into .cache/bin), or `apt-get install prometheus`"
        )
    return str(found)


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    (rule,) = of_kind(production(), "PrometheusRule")
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(rule["spec"]))

    result = subprocess.run(
        [promtool(), "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboards_are_deploy_grafana_dashboards_labelled_for_the_sidecar() -> None:
    dashboards = ROOT / "deploy" / "grafana" / "dashboards"
    (config_map,) = [
        c
        for c in of_kind(production(), "ConfigMap")
        if "grafana_dashboard" in c["metadata"].get("labels", {})
    ]

    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["data"].keys() == {p.name for p in dashboards.glob("*.json")}
    for name, text in config_map["data"].items():
        assert json.loads(text) == json.loads((dashboards / name).read_text()), (
            f"components/prometheus-operator/dashboards/{name} drifted from deploy/grafana"
        )


# The checks catch what they are for ---------------------------------------------------------


def broken(mutate: Callable[[list[Object]], None]) -> list[Object]:
    objects = production()
    mutate(objects)
    return objects


def api_container(objects: list[Object]) -> Object:
    return named(objects, "Deployment", "registration")["spec"]["template"]["spec"]["containers"][0]


def test_the_checks_pass_the_manifests_as_they_are() -> None:
    objects = production()
    checks = (
        pod_security_problems,
        resource_problems,
        probe_problems,
        disruption_problems,
        image_problems,
        secret_problems,
        settings_problems,
        network_problems,
        topic_problems,
    )
    assert not [problem for check in checks for problem in check(objects)]


@pytest.mark.parametrize(
    ("check", "mutate"),
    [
        (probe_problems, lambda o: api_container(o).pop("readinessProbe")),
        (probe_problems, lambda o: api_container(o)["livenessProbe"]["httpGet"].update(path="/")),
        (resource_problems, lambda o: api_container(o)["resources"].pop("limits")),
        (
            pod_security_problems,
            lambda o: api_container(o)["securityContext"].update(readOnlyRootFilesystem=False),
        ),
        (
            pod_security_problems,
            lambda o: named(o, "Deployment", "reporting")["spec"]["template"]["spec"][
                "securityContext"
            ].pop("runAsUser"),
        ),
        (
            pod_security_problems,
            lambda o: api_container(o)["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
        ),
        (disruption_problems, lambda o: o.remove(named(o, "PodDisruptionBudget", "notification"))),
        (
            image_problems,
            lambda o: api_container(o).update(image="registry.example.org/tilmeld/tilmeld:latest"),
        ),
        (image_problems, lambda o: api_container(o).update(image="tilmeld")),
        (
            secret_problems,
            lambda o: o.append(
                {"kind": "Secret", "metadata": {"name": "x"}, "data": {"k": "dg=="}}
            ),
        ),
        (
            settings_problems,
            lambda o: api_container(o)["env"].append(
                {"name": "REGISTRATION_PROT", "value": "8001"}
            ),
        ),
        (network_problems, lambda o: o.remove(named(o, "NetworkPolicy", "default-deny"))),
        (network_problems, lambda o: o.remove(named(o, "NetworkPolicy", "allow-dns-egress"))),
        (network_problems, lambda o: o.remove(named(o, "NetworkPolicy", "notification-egress"))),
        (
            network_problems,
            lambda o: named(o, "NetworkPolicy", "registration-ingress")["spec"]["ingress"][0].pop(
                "from"
            ),
        ),
        (
            topic_problems,
            lambda o: named(o, "KafkaTopic", "registration-meetings-v1")["spec"]["config"].update(
                {"cleanup.policy": "compact"}
            ),
        ),
        (
            topic_problems,
            lambda o: o.remove(named(o, "KafkaTopic", "registration-enrolments-v1-dlq")),
        ),
    ],
)
def test_a_defect_is_caught(
    check: Callable[[list[Object]], list[str]], mutate: Callable[[list[Object]], Any]
) -> None:
    assert check(broken(mutate))
