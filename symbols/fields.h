/* SPDX-License-Identifier: MIT */
/* The one list of interpreter layout facts memalot needs, and where DWARF has each. */
#ifndef MEMALOT_FIELDS_H
#define MEMALOT_FIELDS_H

/*
 * X(id, name, kind, dwarf type, dwarf member path, _Py_DebugOffsets member path)
 *
 * kind OFF: offsetof(type, path); SIZE: sizeof(type); BIT: bit position of a
 * bit-field inside its parent member. A field that a version lacks is simply
 * absent from its layout (runtime.gc exists only in 3.8, interp.gc from 3.9).
 * The same names key the committed offset tables, so renaming one means
 * regenerating symbols/tables/layouts.tsv.
 */
#define LAYOUT_FIELDS(X) \
	X(RT_INTERP_HEAD, "runtime.interpreters_head", OFF, "_PyRuntimeState", "interpreters.head", "runtime_state.interpreters_head") \
	X(RT_GC, "runtime.gc", OFF, "_PyRuntimeState", "gc", 0) \
	X(INTERP_NEXT, "interp.next", OFF, "PyInterpreterState", "next", "interpreter_state.next") \
	X(INTERP_GC, "interp.gc", OFF, "PyInterpreterState", "gc", "interpreter_state.gc") \
	X(INTERP_SIZE, "interp.size", SIZE, "PyInterpreterState", 0, "interpreter_state.size") \
	X(GC_GENERATIONS, "gc.generations", OFF, "_gc_runtime_state", "generations", 0) \
	X(GC_YOUNG, "gc.young", OFF, "_gc_runtime_state", "young", 0) \
	X(GC_OLD, "gc.old", OFF, "_gc_runtime_state", "old", 0) \
	X(GC_PERMANENT, "gc.permanent_generation", OFF, "_gc_runtime_state", "permanent_generation", 0) \
	X(GC_GENERATION0, "gc.generation0", OFF, "_gc_runtime_state", "generation0", 0) \
	X(GC_COLLECTING, "gc.collecting", OFF, "_gc_runtime_state", "collecting", "gc.collecting") \
	X(GC_SIZE, "gc.size", SIZE, "_gc_runtime_state", 0, "gc.size") \
	X(GCGEN_SIZE, "gcgen.size", SIZE, "gc_generation", 0, 0) \
	X(GCGEN_THRESHOLD, "gcgen.threshold", OFF, "gc_generation", "threshold", 0) \
	X(GCGEN_COUNT, "gcgen.count", OFF, "gc_generation", "count", 0) \
	X(GCHEAD_SIZE, "gchead.size", SIZE, "PyGC_Head", 0, 0) \
	X(OB_REFCNT, "object.ob_refcnt", OFF, "PyObject", "ob_refcnt", 0) \
	X(OB_TYPE, "object.ob_type", OFF, "PyObject", "ob_type", "pyobject.ob_type") \
	X(OB_SIZE, "object.size", SIZE, "PyObject", 0, "pyobject.size") \
	X(VAR_OB_SIZE, "varobject.ob_size", OFF, "PyVarObject", "ob_size", 0) \
	X(TP_NAME, "type.tp_name", OFF, "PyTypeObject", "tp_name", "type_object.tp_name") \
	X(TP_BASICSIZE, "type.tp_basicsize", OFF, "PyTypeObject", "tp_basicsize", 0) \
	X(TP_ITEMSIZE, "type.tp_itemsize", OFF, "PyTypeObject", "tp_itemsize", 0) \
	X(TP_FLAGS, "type.tp_flags", OFF, "PyTypeObject", "tp_flags", "type_object.tp_flags") \
	X(TP_BASE, "type.tp_base", OFF, "PyTypeObject", "tp_base", 0) \
	X(TP_DICT, "type.tp_dict", OFF, "PyTypeObject", "tp_dict", 0) \
	X(TP_MRO, "type.tp_mro", OFF, "PyTypeObject", "tp_mro", 0) \
	X(HT_NAME, "heaptype.ht_name", OFF, "PyHeapTypeObject", "ht_name", 0) \
	X(HT_QUALNAME, "heaptype.ht_qualname", OFF, "PyHeapTypeObject", "ht_qualname", 0) \
	X(STR_LENGTH, "unicode.length", OFF, "PyASCIIObject", "length", "unicode_object.length") \
	X(STR_STATE, "unicode.state", OFF, "PyASCIIObject", "state", "unicode_object.state") \
	X(STR_KIND_BIT, "unicode.state.kind", BIT, "PyASCIIObject", "state.kind", 0) \
	X(STR_COMPACT_BIT, "unicode.state.compact", BIT, "PyASCIIObject", "state.compact", 0) \
	X(STR_ASCII_BIT, "unicode.state.ascii", BIT, "PyASCIIObject", "state.ascii", 0) \
	X(STR_ASCII_SIZE, "unicode.ascii_size", SIZE, "PyASCIIObject", 0, "unicode_object.asciiobject_size") \
	X(STR_COMPACT_SIZE, "unicode.compact_size", SIZE, "PyCompactUnicodeObject", 0, 0) \
	X(DICT_USED, "dict.ma_used", OFF, "PyDictObject", "ma_used", 0) \
	X(DICT_KEYS, "dict.ma_keys", OFF, "PyDictObject", "ma_keys", 0) \
	X(DICT_VALUES, "dict.ma_values", OFF, "PyDictObject", "ma_values", 0) \
	X(DK_SIZE, "dictkeys.dk_size", OFF, "PyDictKeysObject", "dk_size", 0) \
	X(DK_LOG2_SIZE, "dictkeys.dk_log2_size", OFF, "PyDictKeysObject", "dk_log2_size", 0) \
	X(DK_LOG2_INDEX_BYTES, "dictkeys.dk_log2_index_bytes", OFF, "PyDictKeysObject", "dk_log2_index_bytes", 0) \
	X(DK_KIND, "dictkeys.dk_kind", OFF, "PyDictKeysObject", "dk_kind", 0) \
	X(DK_NENTRIES, "dictkeys.dk_nentries", OFF, "PyDictKeysObject", "dk_nentries", 0) \
	X(DK_INDICES, "dictkeys.dk_indices", OFF, "PyDictKeysObject", "dk_indices", 0) \
	X(DK_ENTRY_SIZE, "dictkeys.entry_size", SIZE, "PyDictKeyEntry", 0, 0) \
	X(DK_UENTRY_SIZE, "dictkeys.unicode_entry_size", SIZE, "PyDictUnicodeEntry", 0, 0)

enum field_kind { OFF, SIZE, BIT };

enum field_id {
#define X(id, ...) F_##id,
	LAYOUT_FIELDS(X)
#undef X
	F__COUNT
};

struct field_spec {
	const char *name;
	enum field_kind kind;
	const char *dw_type;
	const char *dw_path;
	const char *dbg_path; /* member of _Py_DebugOffsets that holds it (3.13+), or NULL */
};

extern const struct field_spec field_specs[F__COUNT];

/* Type names the DWARF index must find, NULL-terminated. */
extern const char *const field_dwarf_types[];

/* The id of the field with this name, or -1. */
int field__by_name(const char *name);

#endif
