/* SPDX-License-Identifier: MIT */
/* Members of a report document (JSON), read as the renderings read them: a missing one is a default. */
#ifndef MEMALOT_REPORTS_DOC_H
#define MEMALOT_REPORTS_DOC_H

#include <jansson.h>

static inline const char *str_of(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : dflt;
}

static inline long long int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static inline double num_of(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

#endif
