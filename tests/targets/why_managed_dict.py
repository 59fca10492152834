# SPDX-License-Identifier: MIT
# Why-scenario: instance attributes of a plain class, once in the instance's
# own storage (managed dict / inline values on 3.11+: OWNER.child) and once in
# a materialised __dict__ (OWNER2.child2). The two leaked classes have names
# that are not substrings of each other. Prints "ready", then idles until
# stdin closes.
import gc
import sys


class Owner(object):
    pass


class LeakedInlineChild(object):
    pass


class LeakedMaterialisedChild(object):
    pass


OWNER = Owner()
OWNER.child = LeakedInlineChild()

OWNER2 = Owner()
OWNER2.__dict__  # materialises the instance dict
OWNER2.child2 = LeakedMaterialisedChild()

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
