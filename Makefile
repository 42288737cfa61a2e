# The two set-up commands (see README): `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3

.PHONY: demo test bench clean

$(VENV)/.installed: pyproject.toml scripts/bootstrap
	PYTHON=$(PYTHON) scripts/bootstrap $(VENV)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	PYTHON=$(PYTHON) scripts/bootstrap $(VENV) --test
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/cadre demo demo

test: $(VENV)/.installed-test
	scripts/run-tests $(VENV)

bench: $(VENV)/.installed-test
	$(VENV)/bin/python -m benchmarks

clean:
	rm -rf $(VENV) demo
