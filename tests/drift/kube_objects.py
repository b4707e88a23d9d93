"""Deployments and GFD-labelled nodes written through the real `kubernetes` client, to
whichever API server KUBECONFIG names (the fake one, or the real control plane)."""

from __future__ import annotations

import os

from envparity.core.names import k8s_labels
from envparity.flows.drift_check import expected_node_pool


def api(kubeconfig: str | None = None):
    from kubernetes import config

    return config.new_client_from_config(config_file=kubeconfig or os.environ["KUBECONFIG"])


def add_deployment(
    env, image, replicas=None, gpus="1", selector=None, annotations=None, kubeconfig=None
):
    from kubernetes import client

    pool = expected_node_pool(env)
    labels = k8s_labels(env)  # the workload's labels, as the stacks set them
    body = {
        "metadata": {
            "name": env.name,
            "labels": labels,
            "annotations": annotations or {"envparity.io/fingerprint": env.fingerprint},
        },
        "spec": {
            "replicas": replicas if replicas is not None else env.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": selector or dict(pool.labels),
                    "containers": [
                        {
                            "name": env.name,
                            "image": image,
                            "resources": {"limits": {"nvidia.com/gpu": gpus}},
                        }
                    ],
                },
            },
        },
    }
    with api(kubeconfig) as c:
        client.AppsV1Api(c).create_namespaced_deployment(env.name, body)


def add_node(
    env,
    name,
    product="NVIDIA-H100-80GB-HBM3",
    driver=("550", "54", "15"),
    deprecated=False,
    kubeconfig=None,
):
    from kubernetes import client

    labels = dict(expected_node_pool(env).labels)
    labels["nvidia.com/gpu.product"] = product
    keys = (
        (
            "nvidia.com/cuda.driver.major",
            "nvidia.com/cuda.driver.minor",
            "nvidia.com/cuda.driver.rev",
        )
        if deprecated
        else (
            "nvidia.com/cuda.driver-version.major",
            "nvidia.com/cuda.driver-version.minor",
            "nvidia.com/cuda.driver-version.revision",
        )
    )
    labels.update(zip(keys, driver, strict=True))
    with api(kubeconfig) as c:
        client.CoreV1Api(c).create_node({"metadata": {"name": name, "labels": labels}})


def drift_json(cli, path, stacks, *extra):
    """`envparity drift PATH --stage production --target kubernetes --json` through `cli`."""
    return cli(
        path,
        "--stage",
        "production",
        "--target",
        "kubernetes",
        "--stacks",
        stacks,
        "--json",
        *extra,
    )
