/* SPDX-License-Identifier: MIT */
/* A process's interpreter: where it is, which version, and every offset the analyzer needs. */
#ifndef MEMALOT_LAYOUT_H
#define MEMALOT_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "../attach/remote.h"
#include "fields.h"

/* Where a field's value came from; also the order of trust. */
enum layout_source {
	LSRC_NONE = 0,
	LSRC_DWARF,         /* the image's own DWARF or its debug file */
	LSRC_DEBUG_OFFSETS, /* _Py_DebugOffsets in the target (3.13+) */
	LSRC_TABLE,         /* committed table for this exact build or version */
	LSRC_TABLE_NEAREST, /* table of another patch release, validated here */
	LSRC_SCAN,          /* found by a validated scan of the target's memory */
};

const char *layout_source__name(enum layout_source s);

/* Builtin type objects memalot recognises by address (exported data symbols). */
#define LAYOUT_TYPE_SYMBOLS(X) \
	X(LIST, "PyList_Type") X(TUPLE, "PyTuple_Type") X(DICT, "PyDict_Type") \
	X(SET, "PySet_Type") X(FROZENSET, "PyFrozenSet_Type") X(CELL, "PyCell_Type") \
	X(FUNCTION, "PyFunction_Type") X(METHOD, "PyMethod_Type") X(MODULE, "PyModule_Type") \
	X(TYPE, "PyType_Type") X(OBJECT, "PyBaseObject_Type") X(STR, "PyUnicode_Type") \
	X(INT, "PyLong_Type") X(FLOAT, "PyFloat_Type") X(BOOL, "PyBool_Type") \
	X(BYTES, "PyBytes_Type") X(BYTEARRAY, "PyByteArray_Type") X(NONE, "_PyNone_Type") \
	X(FRAME, "PyFrame_Type") X(GEN, "PyGen_Type") X(CORO, "PyCoro_Type") \
	X(ASYNCGEN, "PyAsyncGen_Type") X(CODE, "PyCode_Type") X(PROPERTY, "PyProperty_Type") \
	X(CLASSMETHOD, "PyClassMethod_Type") X(STATICMETHOD, "PyStaticMethod_Type") \
	X(MEMBERDESCR, "PyMemberDescr_Type") X(WEAKREF, "_PyWeakref_RefType") \
	X(WEAKPROXY, "_PyWeakref_ProxyType") X(WEAKCALLPROXY, "_PyWeakref_CallableProxyType") \
	X(ODICT, "PyODict_Type") X(DICTPROXY, "PyDictProxy_Type") X(SLICE, "PySlice_Type") \
	X(RANGE, "PyRange_Type") X(COMPLEX, "PyComplex_Type") X(CFUNCTION, "PyCFunction_Type")

enum layout_type_sym {
#define X(id, name) T_##id,
	LAYOUT_TYPE_SYMBOLS(X)
#undef X
	T__COUNT
};

extern const char *const layout_type_sym_names[T__COUNT];

/* What the user may force with --layout-source. */
enum layout_want { LWANT_AUTO, LWANT_DWARF, LWANT_TABLE };

struct layout {
	int64_t v[F__COUNT];
	uint8_t src[F__COUNT];     /* enum layout_source; LSRC_NONE: absent */
	int64_t dbgpos[F__COUNT];  /* position in _Py_DebugOffsets, or -1 */

	char version[32];          /* "3.12.1" */
	unsigned major, minor, micro;
	bool debug_build;
	char flavour[16];          /* "release" or "debug" */

	char *image_path;          /* the file holding the interpreter, as the target sees it */
	char build_id[129];
	raddr_t bias;
	raddr_t runtime;           /* &_PyRuntime */
	raddr_t type_type;         /* &PyType_Type */
	raddr_t str_type;          /* &PyUnicode_Type */
	raddr_t dict_type;         /* &PyDict_Type */
	raddr_t object_type;       /* &PyBaseObject_Type */
	raddr_t types[T__COUNT];   /* builtin type objects by symbol, 0 when absent */

	enum layout_source source; /* the main source */
	char source_desc[256];     /* e.g. "DWARF (/usr/lib/debug/.build-id/..)" */
	char *warning;             /* e.g. "table is for 3.11.7, target is 3.11.2" */
};

static inline bool layout__has(const struct layout *l, enum field_id f)
{
	return l->src[f] != LSRC_NONE;
}

/*
 * Find the interpreter in the target and fill l. r must be open on the
 * target (it need not be frozen: the layout does not change).
 * @return 0, -ME_NOTPYTHON, -ME_UNSUPPORTED, -ME_FREETHREADED, -ME_NOLAYOUT
 *         (with *why saying what is missing; caller frees) or -errno
 */
int layout__discover(struct remote *r, enum layout_want want, struct layout *l, char **why);
void layout__release(struct layout *l);

/* Fill fields from DWARF types (used by discovery and by the table generator). */
struct dwtypes;
int layout__fill_dwarf(struct layout *l, struct dwtypes *t);

/* Version and flavour of an interpreter image, from the file alone. */
struct elfimg;
int layout__image_version(struct elfimg *img, struct layout *l);

/*
 * Open the DWARF for img: img itself, or its debug file found by build-id or
 * .gnu_debuglink under root (a directory such as "/proc/PID/root" or "").
 * @return an elfimg the caller frees, or NULL; *path_out gets its path
 */
struct elfimg *layout__open_debug(struct elfimg *img, const char *img_path, const char *root,
				  char **path_out);

void layout__init(struct layout *l);

#endif

#ifndef MEMALOT_GCHEADS
#define MEMALOT_GCHEADS
#define LAYOUT_MAX_GC_LISTS 6
struct gc_list_head {
	raddr_t addr;      /* the PyGC_Head of the list */
	const char *name;  /* "gen0", "gen1", "gen2", "young", "old0", "old1", "permanent" */
};

/*
 * The collector a layout describes, from which members its GC state has (never
 * from the version: 3.14.0 to 3.14.4 have the incremental one, 3.14.5+ the
 * generations again, with the same offsets): GCM_GENERATIONS for
 * gc.generations (gen0, gen1, gen2), GCM_INCREMENTAL for gc.young and gc.old
 * (a young generation and two old spaces that collections exchange).
 */
enum gc_model { GCM_NONE, GCM_GENERATIONS, GCM_INCREMENTAL };
enum gc_model layout__gc_model(const struct layout *l);

/* Address of the garbage collector state that governs interpreter interp. */
raddr_t layout__gc_state(const struct layout *l, raddr_t interp);
/* The list heads of one interpreter. @return how many (0 when the layout lacks them) */
int layout__gc_heads(const struct layout *l, raddr_t interp, struct gc_list_head *out);
/*
 * Is t a type object? Its metatype chain must reach PyType_Type, and every
 * metatype on the way must have Py_TPFLAGS_TYPE_SUBCLASS.
 */
bool layout__is_type(const struct layout *l, struct remote *r, raddr_t t);
/* The first interpreter (runtime.interpreters.head). @return 0 or -errno */
int layout__first_interp(const struct layout *l, struct remote *r, raddr_t *out);
/* Mask of the flag bits CPython keeps in PyGC_Head links (two low bits). */
#define GC_LINK_MASK (~(uint64_t)3)
#endif
