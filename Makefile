# SPDX-License-Identifier: MIT
# memalot: find memory leaks in running Python programs from outside the process.

PKG_CONFIG ?= pkg-config
CC ?= cc
PREFIX ?= /usr/local
BUILD ?= build
SANITIZE ?=

LIBS_PKGS := libdw libelf msgpack jansson
ifeq ($(shell $(PKG_CONFIG) --exists msgpack-c 2>/dev/null && echo y),y)
LIBS_PKGS := libdw libelf msgpack-c jansson
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PKGS) 2>/dev/null)
CRITERION_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -Wall -Wextra $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS)
ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2);
endif

LIB_SRCS := common/util.c \
	attach/proc.c attach/native.c attach/freeze.c attach/remote.c \
	symbols/fields.c symbols/elfimg.c symbols/dwarf.c symbols/tables.c symbols/layout.c \
	analyzer/snapshot.c analyzer/types.c analyzer/pyobj.c analyzer/sizes.c analyzer/refs.c analyzer/graph.c analyzer/roots.c analyzer/lifetime.c analyzer/dominators.c analyzer/groups.c \
	reports/store.c reports/render.c reports/html.c \
	engine/why.c engine/option_table.c engine/status.c engine/monitor.c engine/options.c engine/control.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/symbols/layouts_data.o
CLI_SRCS := cli/main.c cli/common.c cli/cmd_snapshot.c cli/cmd_attach.c cli/cmd_reports.c mcp/server.c
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(INTEG_SRCS:tests/integration/%.c=$(BUILD)/tests/%)
HARNESS_OBJS := $(BUILD)/tests/lib/harness.o

all: $(BUILD)/memalot $(BUILD)/memalot-gen-offsets $(BUILD)/share/memalot.1

$(BUILD)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The committed offset tables, turned into one C string.
$(BUILD)/symbols/layouts_data.c: symbols/tables/layouts.tsv
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q){ echo '/* generated from symbols/tables/layouts.tsv: do not edit */'; \
	  echo 'const char memalot_layouts_tsv[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/symbols/layouts_data.o: $(BUILD)/symbols/layouts_data.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libmemalot.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/memalot: $(CLI_OBJS) $(BUILD)/libmemalot.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/memalot-gen-offsets: $(BUILD)/symbols/gen_offsets.o $(BUILD)/libmemalot.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libmemalot.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CRITERION_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/integration/%.o $(HARNESS_OBJS) $(BUILD)/libmemalot.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CRITERION_LIBS)

# A process that looks like a free-threaded CPython to memalot (test_faults).
$(BUILD)/tests/python3.13t: tests/targets/freethreaded_marker.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -Wall -Wextra -O0 -g -o $@ $<

tests: $(UNIT_BINS) $(INTEG_BINS) $(BUILD)/tests/python3.13t

# Set up, build, and run memalot against a sample leaking program.
demo: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/demo.sh

# Install the Debian packages the build and the tests need (idempotent).
setup:
	$(Q)sh tests/setup-deps.sh

check test: setup
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)sh tests/run-tests.sh $(BUILD)

# PYTHON=python3.X make install: also the Python package, for that interpreter (from the wheel, no index)
PYTHON ?=
HOST_PYTHON ?= python3

# The man page and the bash and zsh completions, made from memalot's own help (cli/gen_docs.py)
$(BUILD)/share/memalot.1: $(BUILD)/memalot cli/gen_docs.py
	$(call msg,GEN,$(BUILD)/share/)
	$(Q)$(HOST_PYTHON) cli/gen_docs.py $(BUILD)/memalot $(BUILD)/share

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0755 $(BUILD)/memalot $(DESTDIR)$(PREFIX)/bin/memalot
	install -m 0755 $(BUILD)/memalot-gen-offsets $(DESTDIR)$(PREFIX)/bin/memalot-gen-offsets
	install -m 0644 $(BUILD)/share/memalot.1 $(DESTDIR)$(PREFIX)/share/man/man1/memalot.1
	install -m 0644 $(BUILD)/share/memalot.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/memalot
	install -m 0644 $(BUILD)/share/_memalot $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_memalot
	$(Q)if [ -n "$(PYTHON)" ]; then \
		$(MAKE) --no-print-directory wheel && \
		$(PYTHON) -m pip install --no-index --force-reinstall dist/memalot-*-linux_*.whl; fi

# A wheel that carries the engine and its libraries (python/tools/bundle_engine.py): dist/memalot-*.whl
wheel: all
	$(call msg,WHEEL,dist/)
	$(Q)rm -f dist/memalot-*.whl
	$(Q)$(HOST_PYTHON) python/tools/bundle_engine.py $(BUILD)/memalot python/memalot/_bin
	$(Q)mkdir -p dist && cd python && $(HOST_PYTHON) -c 'import sys; sys.path.insert(0, "_build"); \
		import backend; print("dist/" + backend.build_wheel("../dist"))'; \
		ret=$$?; rm -rf memalot/_bin; exit $$ret

# python/memalot/_options.py from the engine's option table (a test checks it is current)
python-options: all
	$(Q)$(BUILD)/memalot options --json | $(HOST_PYTHON) python/tools/gen_options.py >python/memalot/_options.py

clean:
	rm -rf $(BUILD) dist python/memalot/_bin

.PHONY: all tests setup check test install clean demo wheel python-options
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
include fuzz/fuzz.mk
