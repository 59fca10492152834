# SPDX-License-Identifier: MIT
# A target holding one object of each kind memalot's referent decoders know,
# each referring to known objects. After "ready" it answers one request per
# line on stdin: "NAME" -> the decimal ids (space-separated) recorded under
# NAME, "" when there is no such name. It exits when its stdin closes.
import collections
import functools
import itertools
import sys
import types
import weakref


class Leaf(object):
    """A tracked object to be referred to."""

    def __init__(self, i):
        self.i = i

    def method(self):
        return self.i


class Plain(object):
    """Three attributes: managed / inline values on 3.11+, a dict before."""

    def __init__(self, a, b, c):
        self.a = a
        self.b = b
        self.c = c


class Materialised(Plain):
    pass


class Assigned(Plain):
    pass


class Slotted(object):
    __slots__ = ("x", "y", "unset")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class TaggedList(list):
    pass


def make_closure(v):
    def inner():
        return v

    return inner


def compute(x):
    return results[x]


IDS = {}


def rec(name, *objs):
    IDS[name] = " ".join(str(id(o)) for o in objs)


leaves = [Leaf(i) for i in range(300)]
results = {i: Leaf(1000 + i) for i in range(3)}

plain = Plain(leaves[0], leaves[1], leaves[2])
rec("plain", plain, leaves[0], leaves[1], leaves[2])

mat = Materialised(leaves[3], leaves[4], leaves[5])
mat_dict = vars(mat)  # materialises the instance dict
rec("mat", mat, mat_dict, leaves[3], leaves[4], leaves[5])

asg = Assigned(None, None, None)
asg.__dict__ = {"a": leaves[6], "b": leaves[7], "c": leaves[8]}
rec("asg", asg, asg.__dict__, leaves[6], leaves[7], leaves[8])

slotted = Slotted(leaves[9], leaves[10])
rec("slotted", slotted, leaves[9], leaves[10])

lst = [leaves[11], leaves[12], leaves[13], leaves[14], leaves[15]]
rec("list", lst, *lst)

tup = (leaves[16], "text", leaves[17])
rec("tuple", tup, *tup)

st = {leaves[18], leaves[19], leaves[20]}
st.add(leaves[21])
st.discard(leaves[21])  # leaves a dummy entry behind
rec("set", st, leaves[18], leaves[19], leaves[20])

fst = frozenset([leaves[22], leaves[23]])
rec("frozenset", fst, leaves[22], leaves[23])

dct = {"user:42": leaves[24], 7: leaves[25]}
rec("dict", dct, leaves[24], leaves[25])

big = 2 ** 100
obj_key = leaves[40]
keys = {b"k\x00": leaves[26], 1.5: leaves[27], None: leaves[28], True: leaves[29],
        big: leaves[30], -5: leaves[31], "it's": leaves[32], obj_key: leaves[33]}
rec("keys", keys, obj_key, *leaves[26:34])

closure = make_closure(leaves[34])
cell = closure.__closure__[0]
rec("closure", closure, closure.__closure__, cell, leaves[34], closure.__code__,
    closure.__globals__)

bound = leaves[35].method
rec("method", bound, leaves[35], Leaf.method)

dq = collections.deque()
for i in range(100):
    dq.append(leaves[100 + i])
dq.appendleft(leaves[36])  # the first item sits at the end of a block
rec("deque", dq, *dq)

part = functools.partial(make_closure, leaves[37], key=leaves[38])
rec("partial", part, make_closure, part.args, part.keywords)

cached = functools.lru_cache(maxsize=None)(compute)
for i in range(3):
    cached(i)
bounded = functools.lru_cache(maxsize=8)(compute)
for i in range(3):
    bounded(i)


def cache_dict(wrapper):
    import gc
    for o in gc.get_referents(wrapper):
        if type(o) is dict and o is not wrapper.__dict__ and len(o) == 3:
            return o
    raise SystemExit("no lru cache dict found")


cache = cache_dict(cached)
rec("lru", cached, cache, compute, results[0], results[1], results[2])
bcache = cache_dict(bounded)
rec("lru_bounded", bounded, bcache, compute)

ref = weakref.ref(leaves[39])
rec("weakref", ref, leaves[39])

ddict = collections.defaultdict(list)
ddict["k"] = leaves[41]
rec("defaultdict", ddict, list, leaves[41])

odict = collections.OrderedDict([("first", leaves[42]), ("second", leaves[43])])
rec("odict", odict, leaves[42], leaves[43])

tagged = TaggedList([leaves[44], leaves[45]])
tagged.tag = leaves[46]
rec("tagged", tagged, leaves[44], leaves[45], leaves[46], TaggedList)

ns = types.SimpleNamespace(alpha=leaves[47])
rec("namespace", ns, leaves[47])

rep = itertools.repeat(leaves[48], 3)
rec("repeat", rep, leaves[48])

prop = property(Leaf.method, None, None, "doc")
cm = classmethod(Leaf.method)
sm = staticmethod(Leaf.method)
rec("descr", prop, cm, sm, Leaf.method)

mod = sys.modules[__name__]
rec("module", mod, mod.__dict__)


def type_dict(t):
    import gc
    for o in gc.get_referents(t):
        if type(o) is dict and "__init__" in o and o["__init__"] is t.__init__:
            return o
    raise SystemExit("no type dict found")


rec("type", Plain, type_dict(Plain), Plain.__mro__, Plain.__bases__)

sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write(IDS.get(line.strip(), "") + "\n")
    sys.stdout.flush()
