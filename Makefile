# Two entry points for a fresh machine (see README.md): `make lab` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: lab lab-instructor test system-deps python-venv lessons

# A dry run first: pins this Python cannot install, or PyPI's CUDA torch, stop here with the reason.
# Each step says what it does; pip shows its own progress (a first install takes minutes).
$(BIN)/.installed: pyproject.toml constraints.txt
	@echo "[1/4] a virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "[2/4] pip itself"
	$(BIN)/pip install --progress-bar on --upgrade pip
	@echo "[3/4] checking that the pinned versions install here"
	$(BIN)/python .ci/resolve-check
	@echo "[4/4] convlab and what it uses (torch, JupyterLab, nbgrader ...)"
	$(BIN)/pip install --progress-bar on -c constraints.txt -e '.[dev]'
	@# an editable install leaves out data files: the lab's settings the wheel carries, put in place here
	mkdir -p $(VENV)/share/jupyter/lab/settings/overrides.d
	cp jupyter-config/lab-settings/convlab.json $(VENV)/share/jupyter/lab/settings/overrides.d/
	touch $@

# Debian's python3 cannot create a virtual environment until python3-venv is installed.
python-venv:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "$(PYTHON) cannot create a virtual environment: install python3-venv" >&2; exit 1; fi; }

# Bubblewrap (grading sandbox), Chromium (browser tests), podman and runc (the container backend) and
# PostgreSQL (a course's shared gradebook): Debian packages, installed when run as root;
# configurable-http-proxy (the JupyterHub test) from npm, where npm is.
system-deps: python-venv
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v podman >/dev/null || missing="$$missing podman"; command -v runc >/dev/null || missing="$$missing runc"; \
	  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	  if ! command -v configurable-http-proxy >/dev/null && command -v npm >/dev/null; then \
	    npm install -g --silent configurable-http-proxy@5.3.0; fi; \
	else echo "not root: skipping apt-get (tests needing bwrap, chromium, podman or postgres skip with a reason)"; fi

# The learner's lab: nbgrader's Assignment List and Validate, not its instructor tools (jupyter-config/).
# It opens the learner's own copy of the lessons (workspace/, outside git: a `git pull` never meets
# their work; new lessons are added to it, nothing there is overwritten) on the page where they
# pick the English or the Chinese edition, shown rendered with its links.
WORKSPACE ?= workspace
lab: python-venv $(BIN)/.installed
	$(BIN)/convlab lessons $(WORKSPACE)
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/learner $(BIN)/jupyter lab --allow-root --ServerApp.root_dir=$(WORKSPACE) \
	  --LabApp.default_url=/lab/tree/README.md

# The instructor's lab on a course directory (convlab new-course DIR): Formgrader, Create Assignment, Course List.
lab-instructor: python-venv $(BIN)/.installed
	@test -n "$(COURSE)" && test -f "$(COURSE)/nbgrader_config.py" || \
	  { echo "usage: make lab-instructor COURSE=DIR, DIR a course made by convlab new-course" >&2; exit 2; }
	cd "$(COURSE)" && JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/instructor $(CURDIR)/$(BIN)/jupyter lab --allow-root

test: system-deps $(BIN)/.installed
	$(BIN)/ruff check convlab autograder tests benchmarks
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-auto} $(PYTEST_ARGS)

lessons: $(BIN)/.installed
	$(BIN)/convlab build
