# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_managed_dict.py, leaking over time): every 0.1 s
# one more pair of Owner objects is appended to the module-level list OWNERS:
# one keeps a LeakedInlineChild in the instance's own storage (managed dict /
# inline values on 3.11+: .child), the other a LeakedMaterialisedChild in a
# materialised __dict__ (.child2). From "ready" until stdin closes.
import gc
import select
import sys


class Owner(object):
    pass


class LeakedInlineChild(object):
    pass


class LeakedMaterialisedChild(object):
    pass


OWNERS = []


def leak():
    owner = Owner()
    owner.child = LeakedInlineChild()
    OWNERS.append(owner)
    owner2 = Owner()
    owner2.__dict__  # materialises the instance dict
    owner2.child2 = LeakedMaterialisedChild()
    OWNERS.append(owner2)


def main():
    for _ in range(3):
        leak()
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        leak()


main()
