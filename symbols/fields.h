/* SPDX-License-Identifier: MIT */
/* The one list of interpreter layout facts memalot needs, and where DWARF has each. */
#ifndef MEMALOT_FIELDS_H
#define MEMALOT_FIELDS_H

/*
 * X(id, name, kind, dwarf type, dwarf member path, _Py_DebugOffsets member path)
 *
 * kind OFF: offsetof(type, path); SIZE: sizeof(type); BIT: bit position of a
 * bit-field inside its parent member; ENUM: the value of enumerator path of
 * the enum type. A field that a version lacks is simply
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
	X(GCSTATS_YOUNG, "gcstats.young", OFF, "gc_stats", "young", 0) \
	X(GCSTATS_OLD, "gcstats.old", OFF, "gc_stats", "old", 0) \
	X(GCSTATS_OLD_SIZE, "gcstats_old.size", SIZE, "gc_old_stats_buffer", 0, 0) \
	X(GCSTATS_YOUNG_INDEX, "gcstats_young.index", OFF, "gc_young_stats_buffer", "index", 0) \
	X(GCSTATS_OLD_INDEX, "gcstats_old.index", OFF, "gc_old_stats_buffer", "index", 0) \
	X(FRAMESTATE_EXECUTING, "framestate.executing", ENUM, "_framestate", "FRAME_EXECUTING", 0) \
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
	X(DK_UENTRY_SIZE, "dictkeys.unicode_entry_size", SIZE, "PyDictUnicodeEntry", 0, 0) \
	X(DICTVALUES_VALUES, "dictvalues.values", OFF, "PyDictValues", "values", 0) \
	X(LIST_ITEMS, "list.ob_item", OFF, "PyListObject", "ob_item", 0) \
	X(TUPLE_ITEMS, "tuple.ob_item", OFF, "PyTupleObject", "ob_item", 0) \
	X(SET_MASK, "set.mask", OFF, "PySetObject", "mask", 0) \
	X(SET_TABLE, "set.table", OFF, "PySetObject", "table", 0) \
	X(SETENTRY_SIZE, "setentry.size", SIZE, "setentry", 0, 0) \
	X(LIST_ALLOCATED, "list.allocated", OFF, "PyListObject", "allocated", 0) \
	X(DK_REFCNT, "dictkeys.dk_refcnt", OFF, "PyDictKeysObject", "dk_refcnt", 0) \
	X(DK_USABLE, "dictkeys.dk_usable", OFF, "PyDictKeysObject", "dk_usable", 0) \
	X(SET_SMALLTABLE, "set.smalltable", OFF, "PySetObject", "smalltable", 0) \
	X(BYTEARRAY_ALLOC, "bytearray.ob_alloc", OFF, "PyByteArrayObject", "ob_alloc", 0) \
	X(STR_UTF8, "unicode.utf8", OFF, "PyCompactUnicodeObject", "utf8", 0) \
	X(STR_UTF8_LENGTH, "unicode.utf8_length", OFF, "PyCompactUnicodeObject", "utf8_length", 0) \
	X(STR_WSTR, "unicode.wstr", OFF, "PyASCIIObject", "wstr", 0) \
	X(STR_WSTR_LENGTH, "unicode.wstr_length", OFF, "PyCompactUnicodeObject", "wstr_length", 0) \
	X(STR_READY_BIT, "unicode.state.ready", BIT, "PyASCIIObject", "state.ready", 0) \
	X(STR_DATA, "unicode.data", OFF, "PyUnicodeObject", "data", 0) \
	X(STR_UNICODE_SIZE, "unicode.unicode_size", SIZE, "PyUnicodeObject", 0, 0) \
	X(TYPE_SIZE, "type.size", SIZE, "PyTypeObject", 0, 0) \
	X(CELL_REF, "cell.ob_ref", OFF, "PyCellObject", "ob_ref", 0) \
	X(FUNC_CODE, "function.func_code", OFF, "PyFunctionObject", "func_code", 0) \
	X(FUNC_GLOBALS, "function.func_globals", OFF, "PyFunctionObject", "func_globals", 0) \
	X(FUNC_DEFAULTS, "function.func_defaults", OFF, "PyFunctionObject", "func_defaults", 0) \
	X(FUNC_KWDEFAULTS, "function.func_kwdefaults", OFF, "PyFunctionObject", "func_kwdefaults", 0) \
	X(FUNC_CLOSURE, "function.func_closure", OFF, "PyFunctionObject", "func_closure", 0) \
	X(FUNC_DICT, "function.func_dict", OFF, "PyFunctionObject", "func_dict", 0) \
	X(FUNC_NAME, "function.func_name", OFF, "PyFunctionObject", "func_name", 0) \
	X(FUNC_QUALNAME, "function.func_qualname", OFF, "PyFunctionObject", "func_qualname", 0) \
	X(FUNC_MODULE, "function.func_module", OFF, "PyFunctionObject", "func_module", 0) \
	X(METHOD_FUNC, "method.im_func", OFF, "PyMethodObject", "im_func", 0) \
	X(METHOD_SELF, "method.im_self", OFF, "PyMethodObject", "im_self", 0) \
	X(MODULE_DICT, "module.md_dict", OFF, "PyModuleObject", "md_dict", 0) \
	X(MODULE_NAME, "module.md_name", OFF, "PyModuleObject", "md_name", 0) \
	X(TP_DICTOFFSET, "type.tp_dictoffset", OFF, "PyTypeObject", "tp_dictoffset", 0) \
	X(TP_BASES, "type.tp_bases", OFF, "PyTypeObject", "tp_bases", 0) \
	X(HT_CACHED_KEYS, "heaptype.ht_cached_keys", OFF, "PyHeapTypeObject", "ht_cached_keys", 0) \
	X(HT_MODULE, "heaptype.ht_module", OFF, "PyHeapTypeObject", "ht_module", 0) \
	X(MEMBERDESCR_MEMBER, "memberdescr.d_member", OFF, "PyMemberDescrObject", "d_member", 0) \
	X(MEMBERDEF_TYPE, "memberdef.type", OFF, "PyMemberDef", "type", 0) \
	X(MEMBERDEF_OFFSET, "memberdef.offset", OFF, "PyMemberDef", "offset", 0) \
	X(INTERP_MODULES, "interp.modules", OFF, "PyInterpreterState", "modules", 0) \
	X(INTERP_IMPORTS_MODULES, "interp.imports.modules", OFF, "PyInterpreterState", "imports.modules", "interpreter_state.imports_modules") \
	X(INTERP_SYSDICT, "interp.sysdict", OFF, "PyInterpreterState", "sysdict", "interpreter_state.sysdict") \
	X(INTERP_TSTATE_HEAD, "interp.tstate_head", OFF, "PyInterpreterState", "tstate_head", 0) \
	X(INTERP_THREADS_HEAD, "interp.threads.head", OFF, "PyInterpreterState", "threads.head", "interpreter_state.threads_head") \
	X(GC_GARBAGE, "gc.garbage", OFF, "_gc_runtime_state", "garbage", 0) \
	X(TSTATE_NEXT, "tstate.next", OFF, "PyThreadState", "next", "thread_state.next") \
	X(TSTATE_FRAME, "tstate.frame", OFF, "PyThreadState", "frame", 0) \
	X(TSTATE_CFRAME, "tstate.cframe", OFF, "PyThreadState", "cframe", 0) \
	X(CFRAME_CURRENT, "cframe.current_frame", OFF, "_PyCFrame", "current_frame", 0) \
	X(TSTATE_CURRENT_FRAME, "tstate.current_frame", OFF, "PyThreadState", "current_frame", "thread_state.current_frame") \
	X(TSTATE_THREAD_ID, "tstate.thread_id", OFF, "PyThreadState", "thread_id", "thread_state.thread_id") \
	X(TSTATE_NATIVE_ID, "tstate.native_thread_id", OFF, "PyThreadState", "native_thread_id", "thread_state.native_thread_id") \
	X(FRAME_BACK, "frame.f_back", OFF, "PyFrameObject", "f_back", 0) \
	X(FRAME_CODE, "frame.f_code", OFF, "PyFrameObject", "f_code", 0) \
	X(FRAME_LASTI, "frame.f_lasti", OFF, "PyFrameObject", "f_lasti", 0) \
	X(FRAME_LINENO, "frame.f_lineno", OFF, "PyFrameObject", "f_lineno", 0) \
	X(FRAME_LOCALSPLUS, "frame.f_localsplus", OFF, "PyFrameObject", "f_localsplus", 0) \
	X(FRAME_FRAME, "frame.f_frame", OFF, "PyFrameObject", "f_frame", 0) \
	X(IFRAME_PREVIOUS, "iframe.previous", OFF, "_PyInterpreterFrame", "previous", "interpreter_frame.previous") \
	X(IFRAME_CODE, "iframe.f_code", OFF, "_PyInterpreterFrame", "f_code", 0) \
	X(IFRAME_EXECUTABLE, "iframe.f_executable", OFF, "_PyInterpreterFrame", "f_executable", "interpreter_frame.executable") \
	X(IFRAME_INSTR_PTR, "iframe.instr_ptr", OFF, "_PyInterpreterFrame", "instr_ptr", "interpreter_frame.instr_ptr") \
	X(IFRAME_PREV_INSTR, "iframe.prev_instr", OFF, "_PyInterpreterFrame", "prev_instr", 0) \
	X(IFRAME_LOCALSPLUS, "iframe.localsplus", OFF, "_PyInterpreterFrame", "localsplus", "interpreter_frame.localsplus") \
	X(IFRAME_OWNER, "iframe.owner", OFF, "_PyInterpreterFrame", "owner", "interpreter_frame.owner") \
	X(CODE_NLOCALS, "code.co_nlocals", OFF, "PyCodeObject", "co_nlocals", 0) \
	X(CODE_NLOCALSPLUS, "code.co_nlocalsplus", OFF, "PyCodeObject", "co_nlocalsplus", 0) \
	X(CODE_VARNAMES, "code.co_varnames", OFF, "PyCodeObject", "co_varnames", 0) \
	X(CODE_CELLVARS, "code.co_cellvars", OFF, "PyCodeObject", "co_cellvars", 0) \
	X(CODE_FREEVARS, "code.co_freevars", OFF, "PyCodeObject", "co_freevars", 0) \
	X(CODE_LOCALSPLUSNAMES, "code.co_localsplusnames", OFF, "PyCodeObject", "co_localsplusnames", "code_object.localsplusnames") \
	X(CODE_NAME, "code.co_name", OFF, "PyCodeObject", "co_name", "code_object.name") \
	X(CODE_QUALNAME, "code.co_qualname", OFF, "PyCodeObject", "co_qualname", "code_object.qualname") \
	X(CODE_FILENAME, "code.co_filename", OFF, "PyCodeObject", "co_filename", "code_object.filename") \
	X(CODE_FIRSTLINENO, "code.co_firstlineno", OFF, "PyCodeObject", "co_firstlineno", "code_object.firstlineno") \
	X(CODE_CODE_ADAPTIVE, "code.co_code_adaptive", OFF, "PyCodeObject", "co_code_adaptive", "code_object.co_code_adaptive") \
	X(CODE_LINETABLE, "code.co_linetable", OFF, "PyCodeObject", "co_linetable", "code_object.linetable") \
	X(CODE_LNOTAB, "code.co_lnotab", OFF, "PyCodeObject", "co_lnotab", 0) \
	X(GC_STATS, "gc.generation_stats", OFF, "_gc_runtime_state", "generation_stats", 0) \
	X(GCSTATS_SIZE, "gcstats.size", SIZE, "gc_generation_stats", 0, 0) \
	X(GCSTATS_COLLECTIONS, "gcstats.collections", OFF, "gc_generation_stats", "collections", 0) \
	X(GEN_FRAME, "gen.gi_frame", OFF, "PyGenObject", "gi_frame", 0) \
	X(GEN_IFRAME, "gen.gi_iframe", OFF, "PyGenObject", "gi_iframe", "gen_object.gi_iframe") \
	X(GEN_FRAME_STATE, "gen.gi_frame_state", OFF, "PyGenObject", "gi_frame_state", "gen_object.gi_frame_state")

enum field_kind { OFF, SIZE, BIT, ENUM };

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
