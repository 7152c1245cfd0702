"""Run checkov's Kubernetes runner on several directories in one process (scan venv only).

    .venv-scan/bin/python security/checkov_driver.py DIR...

Prints one JSON object: {"checkov_version": ..., "results": {DIR: {"failed": [...],
"parsing_errors": [...], "resources": N}}, "network_attempts": [...]}. Same checks as
``checkov -d DIR --framework kubernetes --skip-download`` (security/scan.py verifies this
with --cli), but checkov is imported once instead of once per directory (about 3 s each),
and its platform integration is never touched: no API key, no download, no update check.
Each directory gets a fresh Runner, so graph checks never see another directory's objects.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
os.environ["BC_SKIP_MAPPING"] = "TRUE"

# The scan is offline by construction; prove it: any name lookup or connection attempt is
# refused and recorded, and the caller fails the scan when the list is not empty.
import socket

NETWORK_ATTEMPTS: list[str] = []


def _refuse(what: str):
    def refused(*args, **kwargs):
        NETWORK_ATTEMPTS.append(f"{what}{args[1:] if what.startswith('socket.') else args}"[:200])
        raise OSError(f"network access refused by checkov_driver.py: {what}")

    return refused


socket.getaddrinfo = _refuse("getaddrinfo")  # type: ignore[assignment]  # deliberately replaced: no network
socket.create_connection = _refuse("create_connection")  # type: ignore[assignment]  # deliberately replaced: no network
socket.socket.connect = _refuse("socket.connect")  # type: ignore[method-assign]  # deliberately replaced: no network
socket.socket.connect_ex = _refuse("socket.connect_ex")  # type: ignore[method-assign]  # deliberately replaced: no network


def main(dirs: list[str]) -> int:
    from checkov.kubernetes.runner import Runner
    from checkov.runner_filter import RunnerFilter
    from checkov.version import version

    results = {}
    for d in dirs:
        runner_filter = RunnerFilter(framework=["kubernetes"], show_progress_bar=False)
        runner_filter.run_image_referencer = False
        report = Runner().run(root_folder=d, runner_filter=runner_filter)
        reports = report if isinstance(report, list) else [report]
        failed, errors, resources = [], [], 0
        for r in reports:
            if r.check_type != "kubernetes":
                continue
            errors += list(r.parsing_errors)
            resources += len(r.resources)
            for rec in r.failed_checks:
                failed.append(
                    {
                        "check_id": rec.check_id,
                        "check_name": rec.check_name,
                        "file_path": rec.file_path,
                        "file_line_range": list(rec.file_line_range),
                        "resource": rec.resource,
                    }
                )
        results[d] = {"failed": failed, "parsing_errors": errors, "resources": resources}
    json.dump(
        {"checkov_version": version, "results": results, "network_attempts": NETWORK_ATTEMPTS}, sys.stdout
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
