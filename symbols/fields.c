/* SPDX-License-Identifier: MIT */
/* The table behind fields.h. */
#include "fields.h"

#include <string.h>

const struct field_spec field_specs[F__COUNT] = {
#define X(id, name, kind, type, path, dbg) [F_##id] = { name, kind, type, path, dbg },
	LAYOUT_FIELDS(X)
#undef X
};

const char *const field_dwarf_types[] = {
	"_PyRuntimeState", "PyInterpreterState", "_gc_runtime_state", "gc_generation",
	"PyGC_Head", "PyObject", "PyVarObject", "PyTypeObject", "PyHeapTypeObject",
	"PyASCIIObject", "PyCompactUnicodeObject", "PyDictObject", "PyDictKeysObject",
	"PyDictKeyEntry", "PyDictUnicodeEntry", "_Py_DebugOffsets", "PyDictValues",
	"PyListObject", "PyTupleObject", "PySetObject", "setentry", "PyCellObject",
	"PyFunctionObject", "PyMethodObject", "PyModuleObject", "PyMemberDescrObject",
	"PyMemberDef", "PyThreadState", "_PyCFrame", "PyFrameObject", "_PyInterpreterFrame",
	"PyCodeObject", "PyGenObject", "gc_generation_stats", "gc_stats",
	"gc_young_stats_buffer", "gc_old_stats_buffer", "_framestate",
	"PyByteArrayObject", "PyUnicodeObject", NULL,
};

int field__by_name(const char *name)
{
	for (int i = 0; i < F__COUNT; i++)
		if (!strcmp(field_specs[i].name, name))
			return i;
	return -1;
}
