# RadView: `make run` sets up and runs the demo study; `make test` sets up and runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build lies on this project's machines; on a GPU workstation pip takes the CUDA build.
TORCH_SPEC ?= torch==2.13.0
DEMO_DIR ?= demo-study

.PHONY: setup run test bench bundle clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test,bundle]"
	touch $@

$(DEMO_DIR)/ground-truth/ground-truth.json: | setup
	$(PY) -m radview demo $(DEMO_DIR)

# Opens the window on the demo study; with no display, runs it under Xvfb and saves a screenshot.
run: setup $(DEMO_DIR)/ground-truth/ground-truth.json
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(PY) -m radview $(DEMO_DIR)/dicom; \
	else \
		echo "No display: running RadView under Xvfb; the window with the AI findings is saved to $(DEMO_DIR)/screenshot.png"; \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) -m radview $(DEMO_DIR)/dicom \
			--screenshot $(DEMO_DIR)/screenshot.png --quit-after-shown --after-ai; \
	fi

# --max-worker-restart=0: xdist's loadfile scheduler hangs for good when it replaces a crashed
# worker, so a crash (or a test stopped at its timeout) ends the run with its name instead
test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -n auto --dist loadfile --max-worker-restart=0

bench: setup
	$(PY) -m radview bench load --json bench-load.json
	QT_QPA_PLATFORM=offscreen $(PY) -m radview bench view --json bench-view.json

# The one-folder application in dist/RadView/ (PyInstaller; README: Packaged application).
bundle: setup
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/radview.spec

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench-load.json bench-view.json test-artifacts dist build
