#!/usr/bin/env python3
"""scripts/check-includes on small made-up trees: a clean one passes, each kind of breach fails
naming the file and line. Usage: check_includes_test.py PYTHON CHECKER GRAPH"""
import pathlib
import subprocess
import sys
import tempfile

python, checker, graph = sys.argv[1:4]


def run(files):
    with tempfile.TemporaryDirectory() as root:
        root = pathlib.Path(root)
        (root / "scripts").mkdir()
        (root / "scripts" / "include-graph.txt").write_text(pathlib.Path(graph).read_text())
        for line in pathlib.Path(graph).read_text().splitlines():  # every room's folder, empty
            room, _, names = line.split("#", 1)[0].partition("|")
            room = room.strip()
            if room.startswith("only "):  # the files that alone may use a library, empty
                for name in names.split():
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    (root / name).write_text("")
            elif room:
                (root / room).mkdir(exist_ok=True)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        r = subprocess.run([python, checker, str(root)], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr


failures = []


def expect(what, files, code, *needles):
    got, out = run(files)
    if got != code or any(n not in out for n in needles):
        failures.append(f"{what}: expected exit {code} naming {needles}, got {got}:\n{out}")


clean = {
    "core/money.hpp": "#pragma once\n#include <string>\n",
    "store/sqlite_connection.cpp": '#include "core/money.hpp"\n#include <sqlite3.h>\n',
    "tests/store/migration_test.cpp": "#include <SQLiteCpp/Database.h>\n",
    "store/CMakeLists.txt": "target_link_libraries(dunning_store PUBLIC dunning_core SQLiteCpp)\n",
}
expect("clean tree", clean, 0)
expect("npm's packages beside a benchmark are not ours",
       {**clean, "bench/ingest/peer/node_modules/better-sqlite3/src/a.cpp": "#include <sqlite3.h>\n"}, 0)
expect("a bench source of ours is checked",
       {**clean, "bench/ingest/peer/a.cpp": "#include <sqlite3.h>\n"}, 1, "bench/ingest/peer/a.cpp:1")
expect("core includes SQLite", {**clean, "core/bad.hpp": "#pragma once\n\n#include <sqlite3.h>\n"}, 1,
       "core/bad.hpp:3")
expect("core includes another room", {**clean, "core/bad.cpp": '#include "store/db.hpp"\n'}, 1,
       "core/bad.cpp:1")
expect("core climbs into another room", {**clean, "core/sneaky.cpp": '#include "../store/db.cpp"\n'}, 1,
       "core/sneaky.cpp:1")
expect("http includes SQLite", {**clean, "http/routes.cpp": "#include <SQLiteCpp/Statement.h>\n"}, 1,
       "http/routes.cpp:1")
expect("core links SQLite", {**clean, "core/CMakeLists.txt":
                             "add_library(dunning_core a.cpp)\ntarget_link_libraries(dunning_core PRIVATE SQLiteCpp)\n"},
       1, "core/CMakeLists.txt:2")
expect("another file of store/ includes SQLite",
       {**clean, "store/cases.cpp": '#include "core/money.hpp"\n#include <sqlite3.h>\n'}, 1,
       "store/cases.cpp:2")
expect("a test that uses the store as a client includes SQLite",
       {**clean, "tests/jobs/queue_test.cpp": "#include <SQLiteCpp/Statement.h>\n"}, 1,
       "tests/jobs/queue_test.cpp:1")
expect("a benchmark includes SQLite", {**clean, "bench/x/run.cpp": "#include <sqlite3.h>\n"}, 1,
       "bench/x/run.cpp:1")
expect("a file the graph lets use SQLite is gone",
       {**clean, "scripts/include-graph.txt": pathlib.Path(graph).read_text().replace(
           "only sqlite |", "only sqlite | store/gone.cpp")}, 1, "no file store/gone.cpp")
expect("a room the graph does not know", {**clean, "gadgets/CMakeLists.txt": "add_library(gadgets x.cpp)\n"}, 1, "gadgets")
expect("a header nobody can place", {**clean, "core/odd.cpp": "#include <boost/asio.hpp>\n"}, 1,
       "core/odd.cpp:1")

if failures:
    print("\n\n".join(failures))
    sys.exit(1)
print("check-includes: every case as expected")
