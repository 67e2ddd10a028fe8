# One entry point for set-up, tests and the demo.
#   make test   - create .venv with Python 3.7, install the pins, run the suite
#   make demo   - same set-up, then convert -> train -> evaluate on the embedded demo set
#   make test TF=2, make demo TF=2 - the same on TensorFlow 2.x (.venv-tf2, Python 3.10-3.12)
#   make cluster-demo - the same training by 1 ps and 2 workers on loopback
#   make bench-compare - train-step speed of TF 1.15 against TF 2.x configurations
#   make bench-transfer - what the fast-transfer recipe costs here, on TF 1.15 and TF 2.x
#   make bench-export LOG_DIR=demo_run/log - each exported form's size, accuracy and speed
TF     ?= 1
ifeq ($(TF),2)
VENV   ?= .venv-tf2
REQUIREMENTS = requirements-tf2.txt
else
VENV   ?= .venv
REQUIREMENTS = requirements.txt
endif
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

# TF 1.15 needs Python 3.7: take python3.7 from PATH when it really runs (a pyenv
# shim may not), else the newest 3.7 in the pyenv folder.
PYTHON37 ?= $(shell \
  for p in python3.7 \
           "$$(pyenv root 2>/dev/null)"/versions/3.7*/bin/python3.7 \
           "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.7*/bin/python3.7; do \
    if "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 7)' >/dev/null 2>&1; then \
      command -v "$$p"; break; fi; \
  done)

# TF 2.x needs Python 3.10-3.12, found the same way (newest first) and able to make venvs.
PYTHON3X ?= $(shell \
  for p in python3.12 python3.11 python3.10 \
           "$$(pyenv root 2>/dev/null)"/versions/3.1[012]*/bin/python3.1[012] \
           "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.1[012]*/bin/python3.1[012]; do \
    if "$$p" -c 'import sys, venv, ensurepip; assert (3, 10) <= sys.version_info[:2] <= (3, 12)' >/dev/null 2>&1; then \
      command -v "$$p"; break; fi; \
  done)

.PHONY: venv test demo bench bench-compare bench-transfer reproduce clean cluster-demo bench-scale bench-export

venv: $(STAMP)

ifeq ($(TF),2)
$(STAMP): requirements-tf2.txt
	@if [ -z "$(PYTHON3X)" ]; then \
	  echo "error: Python 3.10-3.12 not found (TensorFlow 2.21 needs one). Install it, e.g." \
	       "'pyenv install 3.12.1' or your OS package python3.12, or pass PYTHON3X=/path/to/python3.12" >&2; \
	  exit 1; fi
	@[ -x $(PY) ] || $(PYTHON3X) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip<24"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-tf2.txt
	@touch $(STAMP)
else
$(STAMP): requirements.txt
	@if [ -z "$(PYTHON37)" ]; then \
	  echo "error: Python 3.7 not found (TensorFlow 1.15 needs it). Install it, e.g." \
	       "'pyenv install 3.7.16' or your OS package python3.7, or pass PYTHON37=/path/to/python3.7" >&2; \
	  exit 1; fi
	@[ -x $(PY) ] || $(PYTHON37) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip<24"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)
endif

# Two pytest workers: one test process leaves much of a second core idle (graph
# building and checkpoint writing run on one thread); tests sharing a module
# fixture carry an xdist_group mark and stay in one worker.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup tests

demo: $(STAMP)
	$(PY) demo.py

# Online: flowers + the 2016 checkpoint -> fine-tune -> evaluate with both baselines.
reproduce: $(STAMP)
	$(PY) reproduce.py $(REPRODUCE_FLAGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_input.py
	$(PY) benchmarks/bench_train_eval.py
	$(PY) benchmarks/bench_predict.py

# Both venvs; each configuration then runs in its own subprocess.
bench-compare:
	$(MAKE) venv
	$(MAKE) venv TF=2
	.venv/bin/python benchmarks/bench_compare.py

# One table a TensorFlow: cache pass, head phase, top step against a full step.
bench-transfer:
	$(MAKE) venv
	$(MAKE) venv TF=2
	.venv/bin/python benchmarks/bench_transfer.py
	.venv-tf2/bin/python benchmarks/bench_transfer.py

# 1 ps + 2 workers on loopback on the demo set, then the evaluation.
cluster-demo: $(STAMP)
	PYTHON=$(PY) scripts/local_cluster.sh

bench-scale: $(STAMP)
	$(PY) benchmarks/bench_scale.py

# Export with every TensorFlow Lite variant and --verify, then time each form.
LOG_DIR ?= demo_run/log
bench-export: $(STAMP)
	$(PY) benchmarks/bench_export.py --log_dir $(LOG_DIR)

clean:
	rm -rf $(VENV) log log_eval export demo_run cluster_run reproduce
