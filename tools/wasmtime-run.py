#!/usr/bin/env python3
"""Runs a wasm32-wasip1 program under wasmtime on the host, for scale beside MinimalOS's figures
(`make bench`) and to compare a program's output with what it prints on MinimalOS.

usage: wasmtime-run.py [--tmp DIR] [--runs N] WASM [ARGS...]

The program sees DIR (a fresh temporary directory by default) as /tmp, the arguments ARGS after
its name, and the host's standard streams. The module is compiled once, then run N times (1 by
default); the last line on standard error is

    wasmtime-run: N runs of NAME, median RUN ns, compiled in COMPILE ns, exit status S

Needs the `wasmtime` package from PyPI (`pip install wasmtime`).
"""

import os
import statistics
import sys
import tempfile
import time

try:
    import wasmtime
except ImportError:
    sys.exit("wasmtime-run: the Python package `wasmtime` is missing: pip install wasmtime")


def main(argv):
    tmp, runs = None, 1
    while argv and argv[0].startswith("--"):
        if len(argv) < 2:
            sys.exit(__doc__)
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--tmp":
            tmp = value
        elif flag == "--runs":
            runs = int(value)
        else:
            sys.exit(f"wasmtime-run: unknown option {flag}\n{__doc__}")
    if not argv:
        sys.exit(__doc__)
    wasm, args = argv[0], argv[1:]
    name = os.path.basename(wasm)
    tmp = tmp or tempfile.mkdtemp(prefix="wasmtime-run-")
    engine = wasmtime.Engine()
    started = time.perf_counter_ns()
    module = wasmtime.Module.from_file(engine, wasm)
    compiled = time.perf_counter_ns() - started
    times, status = [], 0
    for _ in range(runs):
        status, took = run_once(engine, module, name, args, tmp)
        times.append(took)
        if status != 0:
            break
    sys.stdout.flush()
    print(
        f"wasmtime-run: {len(times)} runs of {name}, median {int(statistics.median(times))} ns, "
        f"compiled in {compiled} ns, exit status {status}",
        file=sys.stderr,
    )
    return status


def run_once(engine, module, name, args, tmp):
    """Instantiates and runs the module once; returns its exit status and the ns it took."""
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    config = wasmtime.WasiConfig()
    config.argv = [name] + args
    config.preopen_dir(tmp, "/tmp")
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    store.set_wasi(config)
    started = time.perf_counter_ns()
    instance = linker.instantiate(store, module)
    status = 0
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as exit:
        status = exit.code
    return status, time.perf_counter_ns() - started


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
