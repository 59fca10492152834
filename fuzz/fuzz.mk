# SPDX-License-Identifier: MIT
# Fuzz targets (libFuzzer + ASan + UBSan), included from the Makefile.
#   make fuzz                      build $(BUILD)/fuzz/fuzz_walk, fuzz_graph, fuzz_store, fuzz_mcp, fuzz_control and fuzz_native
#   make fuzz-run [FUZZ_SECONDS=60] run each for a sixth of the time on a copy of
#                                  its seeds (fuzz/corpus, corpus-graph, corpus-store, corpus-mcp)
#   make fuzz-corpus               regenerate the seeds and fuzz/walk.dict, fuzz/graph.dict
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
# fuzz/freezer_stub.c stubs the entry points snapshot__take refers to.
# The engine's driver (monitor.c, control.c) is left out too: fuzz_control
# includes control.c with the monitor stubbed.
FUZZ_LIB_SRCS = $(filter-out attach/freeze.c engine/monitor.c engine/control.c,$(LIB_SRCS))
FUZZ_LIB_OBJS = $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/layouts_data.o

FUZZ_TARGETS := $(FUZZ_DIR)/fuzz_walk $(FUZZ_DIR)/fuzz_graph $(FUZZ_DIR)/fuzz_store $(FUZZ_DIR)/fuzz_mcp \
	$(FUZZ_DIR)/fuzz_control $(FUZZ_DIR)/fuzz_native

fuzz: $(FUZZ_TARGETS)

# Library objects with coverage instrumentation (fuzzer-no-link: no main).
$(FUZZ_DIR)/obj/%.o: %.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(subst fuzzer,fuzzer-no-link,$(FUZZ_SAN)) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/obj/layouts_data.o: $(BUILD)/symbols/layouts_data.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_walk: fuzz/fuzz_walk.c fuzz/freezer_stub.c fuzz/walk_image.h $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ fuzz/fuzz_walk.c fuzz/freezer_stub.c \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

$(FUZZ_DIR)/fuzz_graph: fuzz/fuzz_graph.c fuzz/freezer_stub.c fuzz/graph_image.h $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ fuzz/fuzz_graph.c fuzz/freezer_stub.c \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

$(FUZZ_DIR)/fuzz_store: fuzz/fuzz_store.c $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ fuzz/fuzz_store.c fuzz/freezer_stub.c \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

# The MCP server's source is included by the target (its line handler is static).
$(FUZZ_DIR)/fuzz_mcp: fuzz/fuzz_mcp.c mcp/server.c cli/common.c $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ fuzz/fuzz_mcp.c fuzz/freezer_stub.c cli/common.c \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

# The control channel's source is included by the target (its reader is static); the engine is stubbed.
$(FUZZ_DIR)/fuzz_control: fuzz/fuzz_control.c engine/control.c $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ fuzz/fuzz_control.c fuzz/freezer_stub.c \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

$(FUZZ_DIR)/fuzz_native: fuzz/fuzz_native.c $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ fuzz/fuzz_native.c fuzz/freezer_stub.c \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

# The seed generator needs no sanitizer; it only writes files.
$(FUZZ_DIR)/gen_corpus: fuzz/gen_corpus.c fuzz/walk_image.h fuzz/graph_image.h $(BUILD)/libmemalot.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ fuzz/gen_corpus.c $(BUILD)/libmemalot.a $(LDLIBS)

fuzz-corpus: $(FUZZ_DIR)/gen_corpus
	$(Q)mkdir -p fuzz/corpus fuzz/corpus-graph
	$(Q)$(FUZZ_DIR)/gen_corpus fuzz/corpus fuzz/walk.dict fuzz/corpus-graph fuzz/graph.dict

# New inputs go to a copy so that the seed directories keep only the seeds;
# crashes, leaks and timeouts land in $(FUZZ_DIR)/artifacts/. Each target
# gets a sixth of FUZZ_SECONDS.
FUZZ_QUARTER = $(shell echo $$(( ($(FUZZ_SECONDS) + 5) / 6 )))
FUZZ_OPTS = -max_total_time=$(FUZZ_QUARTER) -timeout=5 -rss_limit_mb=2048 -max_len=$(FUZZ_MAX_LEN) \
	-print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/

fuzz-run: $(FUZZ_TARGETS)
	$(Q)mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/corpus-graph $(FUZZ_DIR)/corpus-store $(FUZZ_DIR)/corpus-mcp \
		$(FUZZ_DIR)/corpus-control $(FUZZ_DIR)/corpus-native $(FUZZ_DIR)/artifacts
	$(Q)cp fuzz/corpus/* $(FUZZ_DIR)/corpus/
	$(Q)cp fuzz/corpus-control/* $(FUZZ_DIR)/corpus-control/
	$(Q)cp fuzz/corpus-native/* $(FUZZ_DIR)/corpus-native/
	$(Q)cp fuzz/corpus-graph/* $(FUZZ_DIR)/corpus-graph/
	$(Q)cp fuzz/corpus-store/* $(FUZZ_DIR)/corpus-store/
	$(Q)cp fuzz/corpus-mcp/* $(FUZZ_DIR)/corpus-mcp/
	$(Q)$(FUZZ_DIR)/fuzz_walk $(FUZZ_OPTS) -dict=fuzz/walk.dict $(FUZZ_DIR)/corpus
	$(Q)$(FUZZ_DIR)/fuzz_graph $(FUZZ_OPTS) -dict=fuzz/graph.dict $(FUZZ_DIR)/corpus-graph
	$(Q)$(FUZZ_DIR)/fuzz_store $(FUZZ_OPTS) -dict=fuzz/store.dict $(FUZZ_DIR)/corpus-store
	$(Q)$(FUZZ_DIR)/fuzz_mcp $(FUZZ_OPTS) -dict=fuzz/mcp.dict $(FUZZ_DIR)/corpus-mcp
	$(Q)$(FUZZ_DIR)/fuzz_control $(FUZZ_OPTS) -dict=fuzz/control.dict $(FUZZ_DIR)/corpus-control
	$(Q)$(FUZZ_DIR)/fuzz_native $(FUZZ_OPTS) -dict=fuzz/native.dict $(FUZZ_DIR)/corpus-native

.PHONY: fuzz fuzz-run fuzz-corpus
.DEFAULT_GOAL := $(fuzz_saved_goal)
