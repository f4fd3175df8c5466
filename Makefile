# Two commands on a fresh clone: `make demo` and `make test`. Both bootstrap .venv first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# llama.cpp is compiled for AVX2, without AVX-512 or AMX: a -march=native build died with SIGILL in
# llama_decode on these machines (their CPUs advertise AVX-512 and AMX). pip caches the wheel it builds.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DGGML_AVX512=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel
	# torch first, exactly pinned: a looser requirement would pull the multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -q "llama-cpp-python[server]==0.3.36"
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# FinCon on TSLA with the embedded model: two one-week training episodes (CVRF between them), then a
# two-week test. A fresh run directory each time; rerunning replays the model from the response cache.
DEMO_OUT ?= $(shell mktemp -d -u /tmp/retinue-demo-XXXXXX)
demo: $(STAMP)
	$(BIN)/retinue backtest --method fincon --tickers TSLA --start 2023-02-06 --end 2023-02-17 \
		--train-start 2023-01-30 --train-end 2023-02-03 --episodes 2 --out $(DEMO_OUT)

# Two pytest workers, one test file each at a time (a file's module fixtures are built once). Their models
# share the cores, so OpenMP threads (llama.cpp's, torch's, faiss's) sleep at a barrier instead of spinning,
# which would slow the other worker's model far more than twice.
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/llm_throughput.py
	$(BIN)/python bench/memory_search.py
	$(BIN)/python bench/embedding_start.py
	$(BIN)/python bench/cli_start.py
	$(BIN)/python bench/baseline_results.py
	$(BIN)/python bench/fincon_engine.py
	$(BIN)/python bench/grammar_sampling.py
	$(BIN)/python bench/pipette_plans.py
	$(BIN)/python bench/zip_selection.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
