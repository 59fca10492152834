# SPDX-License-Identifier: MIT
# Fuzz targets (libFuzzer + ASan + UBSan), included from the Makefile.
#   make fuzz                      build $(BUILD)/fuzz/fuzz_walk
#   make fuzz-run [FUZZ_SECONDS=60] run it on a copy of fuzz/corpus
#   make fuzz-corpus               regenerate fuzz/corpus and fuzz/walk.dict
# Include it after LIB_SRCS, PKG_CFLAGS and PKG_LIBS are set; it leaves the
# default goal alone.

fuzz_saved_goal := $(.DEFAULT_GOAL)
BUILD ?= build

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 16384
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -Wall -Wextra -g -O1 $(PKG_CFLAGS)
# The freezer is left out: the fuzzer must never ptrace anything, and
# fuzz_walk.c stubs the entry points snapshot__take refers to.
FUZZ_LIB_SRCS = $(filter-out attach/freeze.c,$(LIB_SRCS))
FUZZ_LIB_OBJS = $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/layouts_data.o

fuzz: $(FUZZ_DIR)/fuzz_walk

# Library objects with coverage instrumentation (fuzzer-no-link: no main).
$(FUZZ_DIR)/obj/%.o: %.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(subst fuzzer,fuzzer-no-link,$(FUZZ_SAN)) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/obj/layouts_data.o: $(BUILD)/symbols/layouts_data.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_walk: fuzz/fuzz_walk.c fuzz/walk_image.h $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ fuzz/fuzz_walk.c \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

# The seed generator needs no sanitizer; it only writes files.
$(FUZZ_DIR)/gen_corpus: fuzz/gen_corpus.c fuzz/walk_image.h $(BUILD)/libmemalot.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ fuzz/gen_corpus.c $(BUILD)/libmemalot.a $(LDLIBS)

fuzz-corpus: $(FUZZ_DIR)/gen_corpus
	$(Q)mkdir -p fuzz/corpus
	$(Q)$(FUZZ_DIR)/gen_corpus fuzz/corpus fuzz/walk.dict

# New inputs go to a copy so that fuzz/corpus keeps only the seeds; crashes,
# leaks and timeouts land in $(FUZZ_DIR)/artifacts/.
fuzz-run: $(FUZZ_DIR)/fuzz_walk
	$(Q)mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	$(Q)cp fuzz/corpus/* $(FUZZ_DIR)/corpus/
	$(Q)$(FUZZ_DIR)/fuzz_walk -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=2048 \
		-max_len=$(FUZZ_MAX_LEN) -dict=fuzz/walk.dict -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus

.PHONY: fuzz fuzz-run fuzz-corpus
.DEFAULT_GOAL := $(fuzz_saved_goal)
