"""python -m memalot ARGS: the memalot command line (memalot --help)."""

import os
import sys

from ._engine import EngineError, engine_env, find_engine


def main() -> None:
    try:
        path = find_engine()
    except EngineError as e:
        sys.stderr.write("memalot: %s\n" % e)
        sys.exit(1)
    os.execve(path, [path] + sys.argv[1:], engine_env(path))


if __name__ == "__main__":
    main()
