"""Copy the memalot binary and the shared libraries it needs into DEST.

    python3 tools/bundle_engine.py BINARY DEST      # DEST/memalot, DEST/lib/*.so*

Used by `make wheel` (DEST is memalot/_bin) so that a wheel runs on a machine
with no compiler and none of libelf, libdw, msgpack-c or jansson: the
package runs DEST/memalot with LD_LIBRARY_PATH=DEST/lib. The C library and
the dynamic loader are the machine's own (they must not be mixed); the
binary needs a glibc at least as new as the one it was built with.
"""
import os
import re
import shutil
import subprocess
import sys

# glibc's own libraries: always the machine's
SYSTEM = re.compile(r"^(linux-vdso|linux-gate|ld-linux|libc|libm|libpthread|libdl|librt|libresolv)\.so")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: bundle_engine.py BINARY DEST")
    binary, dest = sys.argv[1:]
    out = subprocess.run(["ldd", binary], check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    libdir = os.path.join(dest, "lib")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(libdir)
    shutil.copy2(binary, os.path.join(dest, "memalot"))
    os.chmod(os.path.join(dest, "memalot"), 0o755)
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m and not SYSTEM.match(m.group(1)):
            shutil.copy2(os.path.realpath(m.group(2)), os.path.join(libdir, m.group(1)))
        elif "not found" in line:
            sys.exit("bundle_engine.py: %s" % line.strip())


if __name__ == "__main__":
    main()
