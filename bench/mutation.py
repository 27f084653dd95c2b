"""Hand-written mutation testing (issue 18): apply each textual mutation of ``bench/mutants.py`` one at a time,
run the named test files with ``pytest -x -q``, restore the file, and record whether the tests killed it.

    .venv/bin/python bench/mutation.py                      # every mutant, table in bench/results/mutation.json
    .venv/bin/python bench/mutation.py --only beam_penalty_final_sort_only is_same_seed_every_chunk
    .venv/bin/python bench/mutation.py --list               # ids, files and the tests each one runs

The mutants are applied to a scratch copy of ``zoo/``, ``tests/`` and ``pyproject.toml`` (a temporary folder
put first on PYTHONPATH), never to the checkout, so other processes reading the checkout are not disturbed; the
copy's file is restored after each mutant in a ``finally`` (Ctrl-C and SIGTERM included) and the copy removed at
the end. Before the mutants, the unmutated tests must pass in the copy (otherwise every mutant would look killed).

A mutant is ``killed`` when pytest exits non-zero (a failing test, or an import error the mutation causes),
``survived`` when every test passes, ``equivalent`` when ``bench/mutants.py`` gives a reason why no test could
tell it apart (it is still run, and its outcome recorded). Results merge into the JSON by id, so a partial run
(``--only``) updates those rows and keeps the others.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from mutants import MUTANTS  # noqa: E402

OUT = ROOT / "bench" / "results" / "mutation.json"
COPIED = ("zoo", "tests", "pyproject.toml")


def scratch_copy():
    folder = Path(tempfile.mkdtemp(prefix="zoo-mutation-"))
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, folder / name)
    for name in ("saved_models", "recipes", "bench"):  # read by some tests; never mutated
        if (ROOT / name).exists():
            (folder / name).symlink_to(ROOT / name)
    return folder


def run_tests(folder, tests, select=None, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(folder), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    if select:
        command += ["-k", select]
    start = time.time()
    try:
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
        code, tail = done.returncode, (done.stdout + done.stderr).strip().splitlines()[-3:]
    except subprocess.TimeoutExpired:
        code, tail = -1, ["timed out"]
    return code, tail, time.time() - start


def check_isolated(folder):
    env = {**os.environ, "PYTHONPATH": str(folder)}
    where = subprocess.run([sys.executable, "-c", "import zoo; print(zoo.__file__)"], cwd=folder, env=env,
                           capture_output=True, text=True).stdout.strip()
    if not where.startswith(str(folder)):
        raise SystemExit(f"the scratch copy is not the zoo imported (got {where}); refusing to mutate")


def apply_one(folder, mutant):
    path = folder / mutant["file"]
    original = path.read_text()
    count = original.count(mutant["old"])
    if count != 1:
        return {"outcome": "not applied", "why": f"the old text occurs {count} times in {mutant['file']}"}
    try:
        path.write_text(original.replace(mutant["old"], mutant["new"]))
        code, tail, seconds = run_tests(folder, mutant["tests"], mutant.get("select"))
    finally:
        path.write_text(original)
    outcome = "survived" if code == 0 else "killed"
    return {"outcome": outcome, "pytest_exit": code, "seconds": round(seconds, 1), "tail": tail}


def interrupted(*_):
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C, through the finally blocks that restore the file


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="mutant ids to run (default: all)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m["id"] in args.only]
    if args.only and len(chosen) != len(set(args.only)):
        raise SystemExit(f"unknown ids: {sorted(set(args.only) - {m['id'] for m in MUTANTS})}")
    if args.list:
        for m in chosen:
            print(f"{m['id']:45s} {m['file']:38s} {' '.join(m['tests'])}")
        return
    signal.signal(signal.SIGTERM, interrupted)
    out = Path(args.out)
    table = json.loads(out.read_text()) if out.exists() else {"mutants": {}}
    folder = scratch_copy()
    try:
        check_isolated(folder)
        for tests, select in sorted({(tuple(m["tests"]), m.get("select") or "") for m in chosen}):
            code, tail, _ = run_tests(folder, list(tests), select or None)
            if code != 0:
                raise SystemExit(f"the unmutated tests {tests} fail in the copy: {tail}")
        for m in chosen:
            result = apply_one(folder, m)
            row = {"file": m["file"], "what": m["what"], "tests": m["tests"], **result}
            if m.get("equivalent"):
                row["equivalent"] = m["equivalent"]
            if m.get("killed_by"):
                row["killed_by"] = m["killed_by"]
            table["mutants"][m["id"]] = row
            print(f"{m['id']:45s} {row['outcome']:10s} {row.get('seconds', '')}", flush=True)
            table["date"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            rows = table["mutants"].values()
            table["counts"] = {
                "total": len(table["mutants"]),
                "killed": sum(r["outcome"] == "killed" for r in rows),
                "survived": sum(r["outcome"] == "survived" and not r.get("equivalent") for r in rows),
                "equivalent": sum(bool(r.get("equivalent")) for r in rows),
                "not_applied": sum(r["outcome"] == "not applied" for r in rows)}
            out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
