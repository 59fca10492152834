# SPDX-License-Identifier: MIT
# A target holding one object of each builtin type whose size memalot computes
# (tests/integration/test_sizes.c), each measured here with sys.getsizeof.
# After "ready" it answers one request per line on stdin: "N" (a decimal
# index) -> "OBJ <name> <id> <getsizeof>" for the N-th object, "END" past the
# last one; "FAKE" -> "FAKE <addr>..." of fake objects made of garbage. Every answer is prepared before "ready", so answering allocates
# nothing the objects depend on. It exits when its stdin closes.
import array
import codecs
import collections
import struct
import sys
import warnings


class Plain(object):
    def __init__(self):
        self.a = 1
        self.b = 2
        self.c = 3


class Materialised(Plain):
    pass


class Empty(object):
    pass


class Slotted(object):
    __slots__ = ("x", "y", "z")

    def __init__(self):
        self.x = 1
        self.y = 2


class SlottedWithDict(object):
    __slots__ = ("x", "__dict__", "__weakref__")


class ManyAttrs(object):
    def __init__(self):
        for i in range(40):
            setattr(self, "attr%d" % i, i)


class TaggedList(list):
    pass


class TaggedDict(dict):
    pass


class TaggedSet(set):
    pass


class MyInt(int):
    pass


class MyStr(str):
    pass


class MyTuple(tuple):
    pass


class MyBytes(bytes):
    pass


class Meta(type):
    pass


class WithMeta(object, metaclass=Meta):
    x = 1


def function(a, b=2):
    return a + b


def make_closure(v):
    def inner():
        return v
    return inner


OBJS = []


def add(name, obj):
    OBJS.append((name, obj))


# lists: empty, literal, grown one by one, grown then shrunk, a subclass
add("list_empty", [])
add("list_literal", [1, 2, 3, 4, 5])
grown = []
for i in range(2500):
    grown.append(i)
add("list_grown", grown)
shrunk = []
for i in range(2500):
    shrunk.append(i)
while len(shrunk) > 10:
    shrunk.pop()
add("list_shrunk", shrunk)
tl = TaggedList([1, 2, 3])
tl.tag = "t"
add("list_subclass", tl)

# tuples
add("tuple_empty", ())
add("tuple_small", (1, "a", None))
add("tuple_big", tuple(range(1000)))
add("tuple_subclass", MyTuple((1, 2, 3)))

# dicts: empty, small, big, with deletions, str keys, split / managed instance dicts
add("dict_empty", {})
add("dict_small", {"a": 1})
add("dict_intkeys", {1: 1, 2: 2})
add("dict_big", {i: i for i in range(6000)})
deleted = {i: i for i in range(100)}
for i in range(50):
    del deleted[i]
add("dict_deleted", deleted)
add("dict_strkeys_big", {"key%d" % i: i for i in range(1000)})
add("dict_cleared", {i: i for i in range(100)})
OBJS[-1][1].clear()
td = TaggedDict(a=1, b=2)
td.tag = 1
add("dict_subclass", td)
add("dict_fromkeys", dict.fromkeys("abcdefgh"))
m = Materialised()
add("dict_instance", m.__dict__)
m2 = Materialised()
d2 = m2.__dict__
m2.extra = 4
add("dict_instance_grown", d2)
ma = ManyAttrs()
add("dict_instance_many", ma.__dict__)
add("instance_many", ma)

# instances
add("instance_plain", Plain())
add("instance_materialised", m)
add("instance_empty", Empty())
add("instance_slotted", Slotted())
sd = SlottedWithDict()
sd.x = 1
sd.other = 2
add("instance_slotted_dict", sd)
add("instance_with_meta", WithMeta())
add("object", object())

# sets: small (inline table), big, grown then shrunk, frozensets, a subclass
add("set_empty", set())
add("set_small", {1, 2, 3})
add("set_big", set(range(1000)))
shrinking = set(range(1000))
for i in range(995):
    shrinking.discard(i)
add("set_shrunk", shrinking)
add("frozenset_small", frozenset([1, 2]))
add("frozenset_big", frozenset(range(100)))
add("frozenset_empty", frozenset())
add("set_subclass", TaggedSet(range(20)))

# str of every kind
add("str_empty", "")
add("str_ascii", "hello world")
add("str_ascii_long", "x" * 5000)
add("str_latin1", "h\xe9llo w\xf6rld")
add("str_ucs2", "\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8")
add("str_ucs4", "\U0001f600 smile \U0001f601")
with_utf8 = "caf\xe9 na\xefve \u2603"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # 3.15 deprecates non-ASCII encoding names
    try:
        codecs.lookup(with_utf8)  # the argument parser caches its UTF-8 form
    except LookupError:
        pass
add("str_utf8_cached", with_utf8)
# a wchar_t copy (3.8: array('u') asks for one; later versions make none)
for name, text in (("str_wstr_latin1", "w\xe9de"), ("str_wstr_ascii", "wide")):
    text = "".join([text, " wstr"])  # a fresh str, not a constant
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        array.array("u", text)
    add(name, text)
add("str_subclass_ascii", MyStr("legacy"))
add("str_subclass_latin1", MyStr("l\xe9gacy"))
add("str_subclass_ucs4", MyStr("\U0001f600"))

# bytes and bytearray
add("bytes_empty", b"")
add("bytes_small", b"abc")
add("bytes_big", bytes(10000))
add("bytes_subclass", MyBytes(b"xyz"))
add("bytearray_empty", bytearray())
add("bytearray_literal", bytearray(b"hello"))
ba = bytearray()
for i in range(1000):
    ba.append(i & 0xff)
add("bytearray_grown", ba)

# int and float
add("int_zero", 0)
add("int_small", 1)
add("int_negative", -5)
add("int_two_digits", 2 ** 40)
add("int_big", 2 ** 1000)
add("int_big_negative", -(2 ** 100))
add("int_bool", True)
add("int_subclass", MyInt(12345678901234567890))
add("float", 1.5)

# collections.deque
add("deque_empty", collections.deque())
add("deque_1000", collections.deque(range(1000)))
dq = collections.deque(range(500))
for i in range(130):
    dq.popleft()
add("deque_popleft", dq)
add("deque_maxlen", collections.deque(range(100), maxlen=70))

# functions and classes
add("function", function)
add("lambda", lambda x: x)
add("closure", make_closure(OBJS))
add("class_plain", Plain)
add("class_empty", Empty)
add("class_slotted", Slotted)
add("class_many_attrs", ManyAttrs)
add("class_with_meta", WithMeta)
add("metaclass", Meta)
add("static_type", int)
add("module", sys.modules[__name__])

LINES = ["OBJ %s %d %d" % (name, id(obj), sys.getsizeof(obj)) for name, obj in OBJS]

# Garbage that claims to be objects, inside bytes payloads (never real
# objects): a list with an absurd allocated count, a str of 2**50
# characters, a dict whose keys pointer leads nowhere.
PAYLOAD = sys.getsizeof(b"") - 1  # offset of ob_sval
FAKES = [
    struct.pack("<qQqQq", 1, id(list), 5, 0, 2 ** 62),
    struct.pack("<qQqqQQQQ", 1, id(str), 2 ** 50, -1, 0xffffffff, 0, 0, 0),
    struct.pack("<qQ" + "Q" * 8, 1, id(dict), *([0x10] * 8)),
]
FAKE_LINE = "FAKE " + " ".join(str(id(b) + PAYLOAD) for b in FAKES)

sys.stdout.write("ready %d\n" % len(LINES))
sys.stdout.flush()
for line in sys.stdin:
    line = line.strip()
    if line == "FAKE":
        sys.stdout.write(FAKE_LINE + "\n")
    elif line.isdigit() and int(line) < len(LINES):
        sys.stdout.write(LINES[int(line)] + "\n")
    else:
        sys.stdout.write("END\n")
    sys.stdout.flush()
