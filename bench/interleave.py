#!/usr/bin/env python3
"""Times commands run in turn (A B C A B C ...) rather than one after the other, so that load from other processes
on a shared machine falls on all of them alike; for before/after comparisons where hyperfine's sequential batches
would drift. Prints per command the median wall time, the median user+system CPU time (from wait4) and both as
ratios to the first command. Output is discarded; a command that fails stops the run.

    bench/interleave.py [--runs N] [--warmup N] [--json FILE] 'NAME=COMMAND' ...

A command is split like a shell would (shlex) but run without a shell. Standard library only.
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def run_once(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", help="write the raw times here")
    parser.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args()

    commands = []
    for spec in args.commands:
        name, sep, command = spec.partition("=")
        if not sep or not command:
            parser.error("%r is not NAME=COMMAND" % spec)
        commands.append((name, shlex.split(command)))

    times = {name: {"wall": [], "cpu": []} for name, _ in commands}
    for i in range(args.warmup + args.runs):
        for name, argv in commands:
            code, wall, cpu = run_once(argv)
            if code != 0:
                sys.exit("interleave.py: %s exited with status %d: %s" % (name, code, shlex.join(argv)))
            if i >= args.warmup:
                times[name]["wall"].append(wall)
                times[name]["cpu"].append(cpu)

    first = commands[0][0]
    base_wall = statistics.median(times[first]["wall"])
    base_cpu = statistics.median(times[first]["cpu"])
    print("%d runs each, interleaved, after %d warm-up rounds; medians" % (args.runs, args.warmup))
    print("%-22s %9s %9s %9s %9s %8s" % ("command", "wall ms", "iqr ms", "cpu ms", "x wall", "x cpu"))
    for name, _ in commands:
        wall, cpu = times[name]["wall"], times[name]["cpu"]
        q = statistics.quantiles(wall, n=4)
        print("%-22s %9.2f %9.2f %9.2f %9.2f %8.2f" % (name, statistics.median(wall) * 1e3, (q[2] - q[0]) * 1e3,
              statistics.median(cpu) * 1e3, statistics.median(wall) / base_wall, statistics.median(cpu) / base_cpu))
    print("x wall, x cpu: ratio of medians to %s; iqr: interquartile range of the wall times" % first)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": args.runs, "warmup": args.warmup, "times": times}, f)


if __name__ == "__main__":
    main()
