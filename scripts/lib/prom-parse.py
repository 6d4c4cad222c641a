#!/usr/bin/env python3
"""Parses Prometheus text exposition on stdin with the reference parser of prometheus_client
(PyPI) and prints one JSON object per sample: {"family", "type", "name", "labels", "value"}.
Exits 1 with the parser's message when the text is not valid exposition format. Used by the
metrics tests (Tests/CLITests/PrometheusScrape.swift); scripts/test installs prometheus_client."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    for family in text_string_to_metric_families(sys.stdin.read()):
        for sample in family.samples:
            value = sample.value
            print(json.dumps({
                "family": family.name,
                "type": family.type,
                "name": sample.name,
                "labels": sample.labels,
                "value": None if math.isnan(value) else value,
            }))
except Exception as error:  # the parser raises ValueError and others; any of them is a failure
    print(f"not valid Prometheus text: {error!r}", file=sys.stderr)
    sys.exit(1)
