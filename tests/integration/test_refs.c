/* SPDX-License-Identifier: MIT */
/* refs__each and refs__label on the objects of tests/targets/refs_objects.py, on every interpreter of the matrix. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/pyobj.h"
#include "../../analyzer/refs.h"
#include "../../analyzer/snapshot.h"
#include "../../analyzer/types.h"
#include "../lib/harness.h"

#define MAX_IDS 128

/* The ids the target recorded under one name. */
struct ids {
	raddr_t v[MAX_IDS];
	int n;
};

struct edges {
	struct edge *v;
	size_t n, cap;
};

/* One interpreter's target, attached. */
struct fixture {
	const char *label;
	struct target t;
	struct remote r;
	struct layout l;
	struct snapshot s;
	raddr_t *known;   /* sorted addresses of the snapshot's objects */
	size_t nknown;
	struct refs_ctx ctx;
};

static int cmp_addr(const void *a, const void *b)
{
	raddr_t x = *(const raddr_t *)a, y = *(const raddr_t *)b;

	return x < y ? -1 : x > y;
}

static bool is_known(raddr_t addr, void *arg)
{
	struct fixture *f = arg;

	return bsearch(&addr, f->known, f->nknown, sizeof(*f->known), cmp_addr) != NULL;
}

static void query(struct fixture *f, const char *name, struct ids *out)
{
	char line[64], reply[MAX_IDS * 24], *p, *end;
	int ret;

	snprintf(line, sizeof(line), "%s\n", name);
	ret = target__request(&f->t, line, reply, sizeof(reply), 30000);
	cr_assert_eq(ret, 0, "%s: request '%s': %s", f->label, name, strerror(-ret));
	out->n = 0;
	for (p = reply; *p && out->n < MAX_IDS; p = end) {
		out->v[out->n] = strtoull(p, &end, 10);
		if (end == p)
			break;
		out->n++;
	}
	cr_assert(out->n > 0, "%s: the target has no ids for '%s'", f->label, name);
}

static int collect_cb(const struct edge *e, void *arg)
{
	struct edges *es = arg;

	GROW(es->v, es->cap, es->n + 1);
	es->v[es->n++] = *e;
	return 0;
}

static void collect(struct fixture *f, raddr_t obj, struct edges *es)
{
	raddr_t type;
	int ret;

	es->n = 0;
	cr_assert_eq(pyobj__type(&f->r, &f->l, obj, &type), 0, "%s: cannot read the type of 0x%" PRIx64,
		     f->label, obj);
	ret = refs__each(&f->ctx, obj, type, collect_cb, es);
	cr_assert_eq(ret, 0, "%s: refs__each(0x%" PRIx64 ") = %d (%s)", f->label, obj, ret, me_strerror(ret));
}

static size_t count_kind(const struct edges *es, enum edge_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < es->n; i++)
		n += es->v[i].kind == k;
	return n;
}

/* The edge of kind k to to (and called name, when name is not NULL). */
static const struct edge *find(const struct edges *es, enum edge_kind k, raddr_t to, const char *name)
{
	for (size_t i = 0; i < es->n; i++)
		if (es->v[i].kind == k && es->v[i].to == to && (!name || !strcmp(es->v[i].name, name)))
			return &es->v[i];
	return NULL;
}

static char *type_name_of(struct fixture *f, raddr_t obj)
{
	raddr_t type = 0;

	pyobj__type(&f->r, &f->l, obj, &type);
	return type__qualified_name(&f->r, &f->l, type);
}

/* Assert an edge and its label. */
static void expect(struct fixture *f, const char *what, raddr_t owner, const struct edges *es,
		   enum edge_kind k, raddr_t to, const char *name, const char *label)
{
	const struct edge *e = find(es, k, to, name);
	char buf[256], *owner_type;

	if (!e) {
		fprintf(stderr, "%s: %s: the %zu edges found:\n", f->label, what, es->n);
		for (size_t i = 0; i < es->n; i++)
			fprintf(stderr, "  kind %d to 0x%" PRIx64 " name '%s' index %" PRId64 "\n", es->v[i].kind,
				es->v[i].to, es->v[i].name, es->v[i].index);
	}
	cr_assert_not_null(e, "%s: %s: no edge of kind %d to 0x%" PRIx64 " named '%s'", f->label, what, k, to,
			   name ? name : "(any)");
	if (!label)
		return;
	owner_type = type_name_of(f, owner);
	refs__label(&f->ctx, e, owner_type, buf, sizeof(buf));
	cr_assert_str_eq(buf, label, "%s: %s: label '%s', want '%s'", f->label, what, buf, label);
	free(owner_type);
}

/* Is obj in the snapshot, with a type of that name? */
static void expect_in_snapshot(struct fixture *f, raddr_t obj, const char *type_name)
{
	for (size_t i = 0; i < f->s.n; i++) {
		if (f->s.objs[i].addr != obj)
			continue;
		cr_assert_str_eq(f->s.types.v[f->s.objs[i].type].name, type_name, "%s: 0x%" PRIx64 " is a %s",
				 f->label, obj, f->s.types.v[f->s.objs[i].type].name);
		return;
	}
	cr_assert_fail("%s: 0x%" PRIx64 " (%s) is not in the snapshot", f->label, obj, type_name);
}

static void fixture_start(struct fixture *f, const char *label, const struct interp *py)
{
	char err[512], *script;
	int ret;

	memset(f, 0, sizeof(*f));
	f->label = label;
	script = interp__script(py, "refs_objects.py", err, sizeof(err));
	cr_assert_not_null(script, "%s: %s", label, err);
	ret = target__start(&f->t, py, script, NULL);
	cr_assert_eq(ret, 0, "%s: %s", label, f->t.err);
	cr_assert_str_eq(f->t.ready, "ready", "%s: ready line '%s'", label, f->t.ready);
	free(script);
}

/* Attach, take the snapshot (the target is idle on its stdin from now on). */
static void fixture_attach(struct fixture *f)
{
	char *why = NULL;
	int ret;

	ret = remote__open(&f->r, f->t.pid);
	cr_assert_eq(ret, 0, "%s: remote__open: %s", f->label, strerror(-ret));
	ret = layout__discover(&f->r, LWANT_AUTO, &f->l, &why);
	cr_assert_eq(ret, 0, "%s: layout__discover: %s (%s)", f->label, me_strerror(ret), why ? why : "");
	ret = snapshot__take(&f->r, &f->l, NULL, &f->s);
	cr_assert_eq(ret, 0, "%s: snapshot__take: %s", f->label, me_strerror(ret));
	cr_assert(!f->s.partial, "%s: partial snapshot: %s", f->label, f->s.partial_reason);
	f->known = xmalloc(f->s.n * sizeof(*f->known) + 1);
	for (size_t i = 0; i < f->s.n; i++)
		f->known[i] = f->s.objs[i].addr;
	f->nknown = f->s.n;
	qsort(f->known, f->nknown, sizeof(*f->known), cmp_addr);
	f->ctx = (struct refs_ctx){ &f->r, &f->l, is_known, f };
}

static void fixture_stop(struct fixture *f)
{
	int ret;

	free(f->known);
	snapshot__release(&f->s);
	layout__release(&f->l);
	remote__release(&f->r);
	ret = target__stop(&f->t);
	cr_assert_eq(ret, 0, "%s: the target ended with status %d %s", f->label, ret, f->t.err);
}

enum {
	Q_PLAIN, Q_MAT, Q_ASG, Q_SLOTTED, Q_LIST, Q_TUPLE, Q_SET, Q_FROZENSET, Q_DICT, Q_KEYS,
	Q_CLOSURE, Q_METHOD, Q_DEQUE, Q_PARTIAL, Q_LRU, Q_LRU_BOUNDED, Q_WEAKREF, Q_DEFAULTDICT,
	Q_ODICT, Q_TAGGED, Q_NAMESPACE, Q_REPEAT, Q_DESCR, Q_MODULE, Q_TYPE, Q__COUNT
};
static const char *const qnames[Q__COUNT] = {
	"plain", "mat", "asg", "slotted", "list", "tuple", "set", "frozenset", "dict", "keys",
	"closure", "method", "deque", "partial", "lru", "lru_bounded", "weakref", "defaultdict",
	"odict", "tagged", "namespace", "repeat", "descr", "module", "type",
};

static void check_instances(struct fixture *f, struct ids *q, struct edges *es)
{
	static const char *const attrs[] = { "a", "b", "c" };
	bool managed = f->l.major == 3 && f->l.minor >= 11;
	char want[128];

	/* plain: managed or inline values on 3.11+, a dict before */
	collect(f, q[Q_PLAIN].v[0], es);
	expect_in_snapshot(f, q[Q_PLAIN].v[0], "__main__.Plain");
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "Plain.%s (instance attribute)", attrs[i]);
		expect(f, "plain attribute", q[Q_PLAIN].v[0], es, EDGE_ATTR, q[Q_PLAIN].v[1 + i], attrs[i], want);
	}
	cr_assert_eq(count_kind(es, EDGE_ATTR), 3, "%s: plain has %zu attributes", f->label,
		     count_kind(es, EDGE_ATTR));
	cr_assert_eq(count_kind(es, EDGE_INSTANCE_DICT), managed ? 0 : 1,
		     "%s: plain: %zu instance dicts", f->label, count_kind(es, EDGE_INSTANCE_DICT));
	{
		raddr_t type;
		pyobj__type(&f->r, &f->l, q[Q_PLAIN].v[0], &type);
		expect(f, "plain type", q[Q_PLAIN].v[0], es, EDGE_TYPE_OF, type, NULL, "Plain.__class__");
	}

	/* materialised __dict__ (on 3.13+ a dict over the inline values) */
	collect(f, q[Q_MAT].v[0], es);
	expect(f, "mat dict", q[Q_MAT].v[0], es, EDGE_INSTANCE_DICT, q[Q_MAT].v[1], NULL,
	       "Materialised.__dict__");
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "Materialised.%s (instance attribute)", attrs[i]);
		expect(f, "mat attribute", q[Q_MAT].v[0], es, EDGE_ATTR, q[Q_MAT].v[2 + i], attrs[i], want);
	}
	cr_assert_eq(count_kind(es, EDGE_ATTR), 3, "%s: mat has %zu attributes", f->label, count_kind(es, EDGE_ATTR));

	/* a plain dict assigned to __dict__ */
	collect(f, q[Q_ASG].v[0], es);
	expect(f, "asg dict", q[Q_ASG].v[0], es, EDGE_INSTANCE_DICT, q[Q_ASG].v[1], NULL, "Assigned.__dict__");
	for (int i = 0; i < 3; i++)
		expect(f, "asg attribute", q[Q_ASG].v[0], es, EDGE_ATTR, q[Q_ASG].v[2 + i], attrs[i], NULL);
	cr_assert_eq(count_kind(es, EDGE_ATTR), 3, "%s: asg has %zu attributes", f->label, count_kind(es, EDGE_ATTR));

	/* __slots__: x and y set, unset left empty */
	collect(f, q[Q_SLOTTED].v[0], es);
	expect(f, "slot x", q[Q_SLOTTED].v[0], es, EDGE_SLOT, q[Q_SLOTTED].v[1], "x", "Slotted.x (slot)");
	expect(f, "slot y", q[Q_SLOTTED].v[0], es, EDGE_SLOT, q[Q_SLOTTED].v[2], "y", "Slotted.y (slot)");
	cr_assert_eq(count_kind(es, EDGE_SLOT), 2, "%s: %zu slots", f->label, count_kind(es, EDGE_SLOT));
	cr_assert_eq(count_kind(es, EDGE_ATTR) + count_kind(es, EDGE_INSTANCE_DICT), 0,
		     "%s: a slotted instance with attributes", f->label);

	/* a list subclass with an attribute */
	collect(f, q[Q_TAGGED].v[0], es);
	expect(f, "tagged 0", q[Q_TAGGED].v[0], es, EDGE_LIST_INDEX, q[Q_TAGGED].v[1], NULL, "list index=0");
	expect(f, "tagged 1", q[Q_TAGGED].v[0], es, EDGE_LIST_INDEX, q[Q_TAGGED].v[2], NULL, "list index=1");
	expect(f, "tagged tag", q[Q_TAGGED].v[0], es, EDGE_ATTR, q[Q_TAGGED].v[3], "tag",
	       "TaggedList.tag (instance attribute)");
	expect(f, "tagged class", q[Q_TAGGED].v[0], es, EDGE_TYPE_OF, q[Q_TAGGED].v[4], NULL,
	       "TaggedList.__class__");

	/* types.SimpleNamespace: a C type with tp_dictoffset */
	collect(f, q[Q_NAMESPACE].v[0], es);
	expect(f, "namespace", q[Q_NAMESPACE].v[0], es, EDGE_ATTR, q[Q_NAMESPACE].v[1], "alpha",
	       "SimpleNamespace.alpha (instance attribute)");
}

static void check_containers(struct fixture *f, struct ids *q, struct edges *es)
{
	char want[128];

	collect(f, q[Q_LIST].v[0], es);
	expect_in_snapshot(f, q[Q_LIST].v[0], "builtins.list");
	cr_assert_eq(es->n, 5, "%s: list: %zu edges", f->label, es->n);
	for (int i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "list index=%d", i);
		cr_assert_eq(es->v[i].kind, EDGE_LIST_INDEX);
		cr_assert_eq(es->v[i].index, i);
		expect(f, "list", q[Q_LIST].v[0], es, EDGE_LIST_INDEX, q[Q_LIST].v[1 + i], NULL, want);
	}

	collect(f, q[Q_TUPLE].v[0], es);
	cr_assert_eq(es->n, 3, "%s: tuple: %zu edges", f->label, es->n);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "tuple index=%d", i);
		expect(f, "tuple", q[Q_TUPLE].v[0], es, EDGE_TUPLE_INDEX, q[Q_TUPLE].v[1 + i], NULL, want);
	}

	collect(f, q[Q_SET].v[0], es);
	cr_assert_eq(es->n, 3, "%s: set: %zu edges (the dummy must be skipped)", f->label, es->n);
	for (int i = 0; i < 3; i++)
		expect(f, "set", q[Q_SET].v[0], es, EDGE_SET_MEMBER, q[Q_SET].v[1 + i], NULL, "set member");
	collect(f, q[Q_FROZENSET].v[0], es);
	cr_assert_eq(es->n, 2, "%s: frozenset: %zu edges", f->label, es->n);
	for (int i = 0; i < 2; i++)
		expect(f, "frozenset", q[Q_FROZENSET].v[0], es, EDGE_SET_MEMBER, q[Q_FROZENSET].v[1 + i], NULL,
		       "set member");

	collect(f, q[Q_DICT].v[0], es);
	expect(f, "dict str key", q[Q_DICT].v[0], es, EDGE_DICT_VALUE, q[Q_DICT].v[1], NULL, "dict key='user:42'");
	expect(f, "dict int key", q[Q_DICT].v[0], es, EDGE_DICT_VALUE, q[Q_DICT].v[2], NULL, "dict key=7");
	cr_assert_eq(count_kind(es, EDGE_DICT_KEY), 2, "%s: dict keys", f->label);
	cr_assert_eq(count_kind(es, EDGE_DICT_VALUE), 2, "%s: dict values", f->label);

	{
		static const char *const labels[] = {
			"dict key=b'k\\x00'", "dict key=1.5", "dict key=None", "dict key=True",
			"dict key=1267650600228229401496703205376", "dict key=-5", "dict key=\"it's\"",
		};
		raddr_t keys = q[Q_KEYS].v[0];

		collect(f, keys, es);
		for (int i = 0; i < 7; i++)
			expect(f, "key labels", keys, es, EDGE_DICT_VALUE, q[Q_KEYS].v[2 + i], NULL, labels[i]);
		snprintf(want, sizeof(want), "dict key=<Leaf at 0x%" PRIx64 ">", q[Q_KEYS].v[1]);
		expect(f, "object key", keys, es, EDGE_DICT_VALUE, q[Q_KEYS].v[9], NULL, want);
		expect(f, "object key itself", keys, es, EDGE_DICT_KEY, q[Q_KEYS].v[1], NULL, "dict key");
	}

	collect(f, q[Q_DEQUE].v[0], es);
	cr_assert_eq(count_kind(es, EDGE_DEQUE_INDEX), 101, "%s: deque: %zu items", f->label,
		     count_kind(es, EDGE_DEQUE_INDEX));
	for (int i = 0; i < 101; i++) {
		snprintf(want, sizeof(want), "deque index=%d", i);
		expect(f, "deque", q[Q_DEQUE].v[0], es, EDGE_DEQUE_INDEX, q[Q_DEQUE].v[1 + i], NULL, want);
		cr_assert_eq(find(es, EDGE_DEQUE_INDEX, q[Q_DEQUE].v[1 + i], NULL)->index, i);
	}

	collect(f, q[Q_DEFAULTDICT].v[0], es);
	expect(f, "default_factory", q[Q_DEFAULTDICT].v[0], es, EDGE_OTHER, q[Q_DEFAULTDICT].v[1],
	       "default_factory", "defaultdict.default_factory");
	expect(f, "defaultdict value", q[Q_DEFAULTDICT].v[0], es, EDGE_DICT_VALUE, q[Q_DEFAULTDICT].v[2], NULL,
	       "dict key='k'");

	collect(f, q[Q_ODICT].v[0], es);
	expect(f, "odict first", q[Q_ODICT].v[0], es, EDGE_DICT_VALUE, q[Q_ODICT].v[1], NULL, "dict key='first'");
	expect(f, "odict second", q[Q_ODICT].v[0], es, EDGE_DICT_VALUE, q[Q_ODICT].v[2], NULL,
	       "dict key='second'");
}

static void check_callables(struct fixture *f, struct ids *q, struct edges *es)
{
	struct edges inner = { 0 };

	/* closure: function, its __closure__ tuple, the cell, the captured object */
	collect(f, q[Q_CLOSURE].v[0], es);
	expect(f, "__closure__", q[Q_CLOSURE].v[0], es, EDGE_FUNC, q[Q_CLOSURE].v[1], "__closure__",
	       "function __closure__");
	expect(f, "__code__", q[Q_CLOSURE].v[0], es, EDGE_FUNC, q[Q_CLOSURE].v[4], "__code__", "function __code__");
	expect(f, "__globals__", q[Q_CLOSURE].v[0], es, EDGE_FUNC, q[Q_CLOSURE].v[5], "__globals__",
	       "function __globals__");
	collect(f, q[Q_CLOSURE].v[1], es);
	expect(f, "closure tuple", q[Q_CLOSURE].v[1], es, EDGE_TUPLE_INDEX, q[Q_CLOSURE].v[2], NULL, "tuple index=0");
	collect(f, q[Q_CLOSURE].v[2], es);
	cr_assert_eq(es->n, 1, "%s: cell: %zu edges", f->label, es->n);
	expect(f, "cell", q[Q_CLOSURE].v[2], es, EDGE_CELL, q[Q_CLOSURE].v[3], NULL, "cell contents");

	collect(f, q[Q_METHOD].v[0], es);
	expect(f, "__self__", q[Q_METHOD].v[0], es, EDGE_METHOD, q[Q_METHOD].v[1], "__self__", "bound method __self__");
	expect(f, "__func__", q[Q_METHOD].v[0], es, EDGE_METHOD, q[Q_METHOD].v[2], "__func__", "bound method __func__");

	collect(f, q[Q_PARTIAL].v[0], es);
	expect(f, "partial func", q[Q_PARTIAL].v[0], es, EDGE_OTHER, q[Q_PARTIAL].v[1], "func", "partial.func");
	expect(f, "partial args", q[Q_PARTIAL].v[0], es, EDGE_OTHER, q[Q_PARTIAL].v[2], "args", "partial.args");
	expect(f, "partial keywords", q[Q_PARTIAL].v[0], es, EDGE_OTHER, q[Q_PARTIAL].v[3], "keywords",
	       "partial.keywords");

	/* lru_cache(maxsize=None): the cache dict maps the arguments to the results */
	collect(f, q[Q_LRU].v[0], es);
	expect(f, "lru cache", q[Q_LRU].v[0], es, EDGE_OTHER, q[Q_LRU].v[1], "cache", "_lru_cache_wrapper.cache");
	expect(f, "lru func", q[Q_LRU].v[0], es, EDGE_OTHER, q[Q_LRU].v[2], "__wrapped__",
	       "_lru_cache_wrapper.__wrapped__");
	collect(f, q[Q_LRU].v[1], es);
	for (int i = 0; i < 3; i++)
		expect(f, "lru result", q[Q_LRU].v[1], es, EDGE_DICT_VALUE, q[Q_LRU].v[3 + i], NULL, NULL);

	/* lru_cache(maxsize=8): through the list elements */
	collect(f, q[Q_LRU_BOUNDED].v[0], es);
	expect(f, "bounded cache", q[Q_LRU_BOUNDED].v[0], es, EDGE_OTHER, q[Q_LRU_BOUNDED].v[1], "cache", NULL);
	collect(f, q[Q_LRU_BOUNDED].v[1], es);
	cr_assert_eq(count_kind(es, EDGE_DICT_VALUE), 3, "%s: bounded cache: %zu values", f->label,
		     count_kind(es, EDGE_DICT_VALUE));
	for (int i = 0; i < 3; i++) {
		const struct edge *e = NULL;
		for (size_t j = 0, k = 0; j < es->n; j++)
			if (es->v[j].kind == EDGE_DICT_VALUE && k++ == (size_t)i)
				e = &es->v[j];
		collect(f, e->to, &inner);
		expect(f, "lru element result", e->to, &inner, EDGE_OTHER, q[Q_LRU].v[3 + i], "result",
		       "_lru_list_elem.result");
	}
	free(inner.v);

	collect(f, q[Q_DESCR].v[0], es);
	expect(f, "property fget", q[Q_DESCR].v[0], es, EDGE_OTHER, q[Q_DESCR].v[3], "fget", "property.fget");
	collect(f, q[Q_DESCR].v[1], es);
	expect(f, "classmethod", q[Q_DESCR].v[1], es, EDGE_OTHER, q[Q_DESCR].v[3], "__func__",
	       "classmethod.__func__");
	collect(f, q[Q_DESCR].v[2], es);
	expect(f, "staticmethod", q[Q_DESCR].v[2], es, EDGE_OTHER, q[Q_DESCR].v[3], "__func__",
	       "staticmethod.__func__");
}

static void check_others(struct fixture *f, struct ids *q, struct edges *es)
{
	collect(f, q[Q_WEAKREF].v[0], es);
	expect(f, "weakref", q[Q_WEAKREF].v[0], es, EDGE_WEAK, q[Q_WEAKREF].v[1], NULL, "weak reference");
	cr_assert_eq(count_kind(es, EDGE_WEAK), 1, "%s: weakref", f->label);

	collect(f, q[Q_REPEAT].v[0], es);
	expect(f, "scanned", q[Q_REPEAT].v[0], es, EDGE_SCANNED, q[Q_REPEAT].v[1], NULL, "(scanned)");

	collect(f, q[Q_MODULE].v[0], es);
	expect(f, "module dict", q[Q_MODULE].v[0], es, EDGE_MODULE_DICT, q[Q_MODULE].v[1], NULL, "module __dict__");

	collect(f, q[Q_TYPE].v[0], es);
	expect(f, "type dict", q[Q_TYPE].v[0], es, EDGE_TYPE, q[Q_TYPE].v[1], "__dict__", "type __dict__");
	expect(f, "type mro", q[Q_TYPE].v[0], es, EDGE_TYPE, q[Q_TYPE].v[2], "__mro__", "type __mro__");
	expect(f, "type bases", q[Q_TYPE].v[0], es, EDGE_TYPE, q[Q_TYPE].v[3], "__bases__", "type __bases__");
}

/* refs__each on every object of the snapshot: no failure, and every edge goes somewhere readable. */
struct all_arg {
	struct fixture *f;
	size_t edges, bad;
};

static int all_cb(const struct edge *e, void *arg)
{
	struct all_arg *a = arg;
	raddr_t type;

	a->edges++;
	if (pyobj__type(&a->f->r, &a->f->l, e->to, &type) || !type)
		a->bad++;
	return 0;
}

static void check_whole_heap(struct fixture *f)
{
	struct all_arg a = { f, 0, 0 };
	size_t failed = 0;
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < f->s.n; i++) {
		raddr_t obj = f->s.objs[i].addr;
		int ret = refs__each(&f->ctx, obj, f->s.types.v[f->s.objs[i].type].addr, all_cb, &a);

		if (ret) {
			if (failed < 5)
				fprintf(stderr, "%s: refs__each(0x%" PRIx64 ", %s) = %s\n", f->label, obj,
					f->s.types.v[f->s.objs[i].type].name, me_strerror(ret));
			failed++;
		}
	}
	fprintf(stderr, "%s: %zu objects, %zu edges in %.1f ms\n", f->label, f->s.n, a.edges,
		(double)(now_ns() - t0) / 1e6);
	cr_assert_eq(failed, 0, "%s: refs__each failed on %zu of %zu objects", f->label, failed, f->s.n);
	cr_assert_eq(a.bad, 0, "%s: %zu of %zu edges lead to unreadable objects", f->label, a.bad, a.edges);
}

static void refs_on(const char *label)
{
	const struct interp *py = interp__get(label);
	struct ids q[Q__COUNT];
	struct edges es = { 0 };
	struct fixture f;

	cr_assert_not_null(py, "no interpreter called '%s' in the matrix", label);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);
	fixture_start(&f, label, py);
	/* ask first: the answers allocate; the heap stays still once attached */
	for (int i = 0; i < Q__COUNT; i++)
		query(&f, qnames[i], &q[i]);
	fixture_attach(&f);

	check_instances(&f, q, &es);
	check_containers(&f, q, &es);
	check_callables(&f, q, &es);
	check_others(&f, q, &es);
	check_whole_heap(&f);

	free(es.v);
	fixture_stop(&f);
}

#define REFS(name, label) \
	Test(refs, name, .fini = harness__cleanup, .timeout = 300) { refs_on(label); }

REFS(pyenv_3_8, "pyenv-3.8")
REFS(pyenv_3_9, "pyenv-3.9")
REFS(pyenv_3_10, "pyenv-3.10")
REFS(pyenv_3_11, "pyenv-3.11")
REFS(pyenv_3_12, "pyenv-3.12")
REFS(pyenv_3_13, "pyenv-3.13")
REFS(debian_3_11, "debian-3.11")
REFS(debian_3_11d, "debian-3.11d")
REFS(sid_3_13, "sid-3.13")
REFS(sid_3_13d, "sid-3.13d")
REFS(sid_3_14, "sid-3.14")
REFS(sid_3_14d, "sid-3.14d")
REFS(sid_3_15, "sid-3.15")
REFS(sid_3_15d, "sid-3.15d")
