"""Test wrapper: waits until N processes have reached the barrier, then runs the command.

    python _barrier.py DIR N -- COMMAND...

Each process leaves a file in DIR; when N files are there, all go on (exec COMMAND). If they
never are (the runs were not in progress at the same time), it gives up after two minutes and
exits 3, which fails the run.
"""

import os
import sys
import time

directory, count, separator, *command = sys.argv[1:]
assert separator == "--"
os.makedirs(directory, exist_ok=True)
open(os.path.join(directory, str(os.getpid())), "w").close()
for _ in range(1200):
    if len(os.listdir(directory)) >= int(count):
        os.execvp(command[0], command)
    time.sleep(0.1)
print(f"barrier: fewer than {count} processes arrived", file=sys.stderr)
sys.exit(3)
